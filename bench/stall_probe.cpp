// tailcut_stall_probe: measures how long this machine keeps a process from
// running, to tell a late answer of the gateway's own making from a stall of
// the machine under it.
//
//   tailcut_stall_probe SECONDS [THRESHOLD_MS=5] [realtime|ordinary]
//
// One thread per CPU, each pinned to its CPU, sleeps 1 ms at a time for
// SECONDS and measures how late it woke. `realtime` (the default) runs the
// threads at SCHED_FIFO priority 50, above every ordinary process: what
// still delays them is the machine itself (the hypervisor taking the CPU,
// interrupts, kernel work that cannot be preempted). `ordinary` runs them
// at the default priority, as the gateway runs: the machine's stalls plus
// waiting for the CPU behind other processes. Prints every wake-up later
// than THRESHOLD_MS, in time order, then one summary line per CPU:
//   stall <unix time in ms> cpu=<n> ms=<how late>
//   cpu=<n> wakeups=.. stalls=.. worst_ms=..
// The CPUs are those the probe may run on (its affinity). Exit status 2 on
// a usage error, 1 when a thread cannot be pinned or the realtime priority
// is refused (it needs root or CAP_SYS_NICE), before anything is measured.
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <latch>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using Milliseconds = std::chrono::duration<double, std::milli>;
constexpr std::chrono::milliseconds sleep_step{1};

struct Stall {
  long long unix_ms;
  unsigned cpu;
  double late_ms;
};

struct CpuReport {
  unsigned cpu = 0;
  long wakeups = 0;
  double worst_ms = 0;
  std::vector<Stall> stalls;
  std::string error;
};

long long unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Pins the calling thread to `cpu` and, when asked, raises it to SCHED_FIFO.
std::string take_cpu(unsigned cpu, bool realtime) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (int error = pthread_setaffinity_np(pthread_self(), sizeof set, &set)) {
    return "cannot pin a thread to cpu " + std::to_string(cpu) + ": " + std::strerror(error);
  }
  if (!realtime) return {};
  sched_param priority{};
  priority.sched_priority = 50;
  if (int error = pthread_setschedparam(pthread_self(), SCHED_FIFO, &priority)) {
    return std::string{"realtime priority refused: "} + std::strerror(error) +
           " (run as root, or pass `ordinary`)";
  }
  return {};
}

// Every thread takes its CPU first; none measures unless all could
// (`all_ready`, written before `decided` is counted down).
void probe(CpuReport& report, std::latch& taken, std::latch& decided, const bool& all_ready,
           std::chrono::seconds duration, Milliseconds threshold, bool realtime) {
  report.error = take_cpu(report.cpu, realtime);
  taken.count_down();
  decided.wait();
  if (!all_ready) return;
  const auto end = Clock::now() + duration;
  for (auto before = Clock::now(); before < end; ++report.wakeups) {
    std::this_thread::sleep_for(sleep_step);
    const auto after = Clock::now();
    const double late_ms = Milliseconds{after - before - sleep_step}.count();
    report.worst_ms = std::max(report.worst_ms, late_ms);
    if (late_ms > threshold.count()) report.stalls.push_back({unix_ms_now(), report.cpu, late_ms});
    before = after;
  }
}

int usage(const char* message) {
  std::fprintf(stderr,
               "tailcut_stall_probe: %s\nusage: tailcut_stall_probe SECONDS [THRESHOLD_MS=5] "
               "[realtime|ordinary]\n",
               message);
  return 2;
}

// A whole positive number, or a positive one with a fraction; the whole
// text, nothing after it.
std::optional<double> positive_number(const char* text, bool whole) {
  char* end = nullptr;
  const double value = std::strtod(text, &end);
  if (end == text || *end != '\0' || !(value > 0) || value > 1e9) return std::nullopt;
  if (whole && value != static_cast<double>(static_cast<long>(value))) return std::nullopt;
  return value;
}

// The CPUs this process may run on.
std::vector<unsigned> allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  std::vector<unsigned> cpus;
  if (sched_getaffinity(0, sizeof set, &set) != 0) return cpus;
  for (unsigned cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) cpus.push_back(cpu);
  }
  return cpus;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 4) return usage("expected 1 to 3 arguments");
  const auto seconds = positive_number(argv[1], true);
  const auto threshold_ms = argc > 2 ? positive_number(argv[2], false) : 5.0;
  const std::string_view mode = argc > 3 ? argv[3] : "realtime";
  if (!seconds) return usage("SECONDS must be a positive whole number");
  if (!threshold_ms) return usage("THRESHOLD_MS must be a positive number");
  if (mode != "realtime" && mode != "ordinary") return usage("the mode is realtime or ordinary");
  const std::vector<unsigned> cpus = allowed_cpus();
  if (cpus.empty()) return usage("cannot tell which CPUs this process may run on");

  std::vector<CpuReport> reports(cpus.size());
  std::latch taken{static_cast<std::ptrdiff_t>(cpus.size())};
  std::latch decided{1};
  bool all_ready = false;
  std::vector<std::jthread> threads;
  for (std::size_t i = 0; i < cpus.size(); ++i) {
    reports[i].cpu = cpus[i];
    threads.emplace_back(probe, std::ref(reports[i]), std::ref(taken), std::ref(decided),
                         std::cref(all_ready), std::chrono::seconds{static_cast<long>(*seconds)},
                         Milliseconds{*threshold_ms}, mode == "realtime");
  }
  taken.wait();  // every thread has tried to take its CPU
  const auto failed =
      std::ranges::find_if(reports, [](const CpuReport& report) { return !report.error.empty(); });
  all_ready = failed == reports.end();
  decided.count_down();
  threads.clear();  // joins
  if (failed != reports.end()) {
    std::fprintf(stderr, "tailcut_stall_probe: %s\n", failed->error.c_str());
    return 1;
  }

  std::vector<Stall> stalls;
  for (const CpuReport& report : reports) {
    stalls.insert(stalls.end(), report.stalls.begin(), report.stalls.end());
  }
  std::ranges::sort(stalls, {}, &Stall::unix_ms);
  for (const Stall& stall : stalls) {
    std::printf("stall %lld cpu=%u ms=%.1f\n", stall.unix_ms, stall.cpu, stall.late_ms);
  }
  for (const CpuReport& report : reports) {
    std::printf("cpu=%u wakeups=%ld stalls=%zu worst_ms=%.1f\n", report.cpu, report.wakeups,
                report.stalls.size(), report.worst_ms);
  }
  return 0;
}

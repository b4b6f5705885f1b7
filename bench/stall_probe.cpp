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
// Exit status 2 on a usage error or when the realtime priority is refused.
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
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

void probe(CpuReport& report, std::chrono::seconds duration, Milliseconds threshold,
           bool realtime) {
  report.error = take_cpu(report.cpu, realtime);
  if (!report.error.empty()) return;
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

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 4) return usage("expected 1 to 3 arguments");
  const int seconds = std::atoi(argv[1]);
  const double threshold_ms = argc > 2 ? std::atof(argv[2]) : 5.0;
  const std::string_view mode = argc > 3 ? argv[3] : "realtime";
  if (seconds <= 0) return usage("SECONDS must be a positive whole number");
  if (threshold_ms <= 0) return usage("THRESHOLD_MS must be positive");
  if (mode != "realtime" && mode != "ordinary") return usage("the mode is realtime or ordinary");

  std::vector<CpuReport> reports(std::max(1u, std::thread::hardware_concurrency()));
  std::vector<std::jthread> threads;
  for (unsigned cpu = 0; cpu < reports.size(); ++cpu) {
    reports[cpu].cpu = cpu;
    threads.emplace_back(probe, std::ref(reports[cpu]), std::chrono::seconds{seconds},
                         Milliseconds{threshold_ms}, mode == "realtime");
  }
  threads.clear();  // joins

  std::vector<Stall> stalls;
  for (const CpuReport& report : reports) {
    if (!report.error.empty()) return usage(report.error.c_str());
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

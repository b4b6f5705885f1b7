// Simulator: sampling of delays and faults, and the script player.
#include "upstream/simulator.hpp"

#include <algorithm>
#include <boost/json/stream_parser.hpp>
#include <boost/json/value.hpp>
#include <stdexcept>

namespace tailcut::upstream {

void validate(const SimulatorOptions& options) {
  const auto rate_ok = [](double rate) { return rate >= 0.0 && rate <= 1.0; };
  const auto ms = [](std::chrono::milliseconds duration) {
    return std::to_string(duration.count()) + "ms";
  };
  if (options.min_delay.count() < 0 || options.hang_duration.count() < 0 ||
      options.tail_min.count() < 0) {
    throw std::invalid_argument{"--min-delay, --hang and --tail-min must not be negative"};
  }
  if (options.max_delay < options.min_delay) {
    throw std::invalid_argument{"--max-delay (" + ms(options.max_delay) +
                                ") must be at least --min-delay (" + ms(options.min_delay) + ")"};
  }
  if (!rate_ok(options.error_rate) || !rate_ok(options.invalid_json_rate) ||
      !rate_ok(options.hang_rate) || !rate_ok(options.tail_rate)) {
    throw std::invalid_argument{
        "--error-rate, --invalid-json-rate, --hang-rate and --tail-rate must be from 0 to 1"};
  }
  if (options.error_rate + options.invalid_json_rate + options.hang_rate > 1.0) {
    throw std::invalid_argument{
        "--error-rate, --invalid-json-rate and --hang-rate add up to more than 1"};
  }
  if (options.tail_max < options.tail_min) {
    throw std::invalid_argument{"--tail-max (" + ms(options.tail_max) +
                                ") must be at least --tail-min (" + ms(options.tail_min) + ")"};
  }
}

namespace {

constexpr std::string_view script_keys = "delay_ms, status, body, hang";

// "line 2, column 7": where byte `offset` of `text` is (both from 1).
std::string position_of(std::string_view text, std::size_t offset) {
  const auto before = text.substr(0, offset);
  const auto line = 1 + std::count(before.begin(), before.end(), '\n');
  const auto line_start = before.rfind('\n');
  const auto column = offset - (line_start == std::string_view::npos ? 0 : line_start + 1) + 1;
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

// Parses the whole text; a syntax error says where it is.
boost::json::value parse_json_document(std::string_view text) {
  boost::json::stream_parser parser;
  boost::system::error_code error;
  // On an error, write() returns how many bytes it took before it: where the
  // mistake is. An incomplete document fails in finish(), at the end.
  const auto consumed = parser.write(text.data(), text.size(), error);
  if (!error) parser.finish(error);
  if (error) {
    throw std::invalid_argument{"script is not valid JSON: " + error.message() + " at " +
                                position_of(text, std::min(consumed, text.size()))};
  }
  return parser.release();
}

ScriptedAnswer parse_entry(const boost::json::value& entry, std::size_t index) {
  const auto fail = [index](const std::string& problem) -> ScriptedAnswer {
    throw std::invalid_argument{"script[" + std::to_string(index) + "]: " + problem};
  };
  if (!entry.is_object()) return fail("each entry must be an object, e.g. {\"delay_ms\": 100}");
  ScriptedAnswer answer;
  for (const auto& [key, value] : entry.as_object()) {
    if (key == "delay_ms") {
      if (!value.is_int64() || value.as_int64() < 0) {
        return fail("delay_ms must be a whole number, 0 or more");
      }
      answer.delay = std::chrono::milliseconds{value.as_int64()};
    } else if (key == "status") {
      if (!value.is_int64() || value.as_int64() < 100 || value.as_int64() > 599) {
        return fail("status must be a whole number from 100 to 599");
      }
      answer.status = static_cast<unsigned>(value.as_int64());
    } else if (key == "body") {
      if (!value.is_string()) return fail("body must be a string");
      answer.body = std::string{value.as_string()};
    } else if (key == "hang") {
      if (!value.is_bool()) return fail("hang must be true or false");
      answer.hang = value.as_bool();
    } else {
      // A misspelt key would otherwise leave its field at the default unseen.
      return fail("unknown key \"" + std::string{key} + "\"; the keys are " +
                  std::string{script_keys});
    }
  }
  return answer;
}

}  // namespace

std::vector<ScriptedAnswer> parse_script(std::string_view json_text) {
  const auto document = parse_json_document(json_text);
  if (!document.is_array()) throw std::invalid_argument{"script must be a JSON array"};
  const auto& entries = document.as_array();
  if (entries.empty()) throw std::invalid_argument{"script is empty"};
  std::vector<ScriptedAnswer> script;
  script.reserve(entries.size());
  for (std::size_t index = 0; index < entries.size(); ++index) {
    script.push_back(parse_entry(entries[index], index));
  }
  return script;
}

Simulator::Simulator(SimulatorOptions options)
    : options_{std::move(options)}, random_{options_.seed.value_or(std::random_device{}())} {
  validate(options_);
}

ScriptedAnswer Simulator::plan_next() {
  received_.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock{random_mutex_};
  if (!options_.script.empty()) {
    auto answer = options_.script[script_position_];
    script_position_ = (script_position_ + 1) % options_.script.size();
    return answer;
  }
  using Ms = std::chrono::milliseconds;
  const auto uniform_delay = [this](Ms low, Ms high) {
    return Ms{std::uniform_int_distribution<Ms::rep>{low.count(), high.count()}(random_)};
  };
  ScriptedAnswer answer;
  const bool in_tail = options_.delay_model == DelayModel::heavy_tail &&
                       std::bernoulli_distribution{options_.tail_rate}(random_);
  answer.delay = in_tail ? uniform_delay(options_.tail_min, options_.tail_max)
                         : uniform_delay(options_.min_delay, options_.max_delay);
  const double fault = std::uniform_real_distribution<double>{0.0, 1.0}(random_);
  if (fault < options_.error_rate) {
    answer.status = 500;
    answer.body = R"({"error": "simulated failure"})";
  } else if (fault < options_.error_rate + options_.invalid_json_rate) {
    answer.body = R"({"time": )";  // truncated: not valid JSON
  } else if (fault < options_.error_rate + options_.invalid_json_rate + options_.hang_rate) {
    answer.hang = true;
  }
  return answer;
}

void Simulator::on_answered() noexcept {
  in_flight_.fetch_sub(1, std::memory_order_relaxed);
  answered_.fetch_add(1, std::memory_order_relaxed);
}

void Simulator::on_aborted() noexcept {
  in_flight_.fetch_sub(1, std::memory_order_relaxed);
  aborted_.fetch_add(1, std::memory_order_relaxed);
}

SimulatorCounters Simulator::counters() const noexcept {
  return {received_.load(std::memory_order_relaxed), in_flight_.load(std::memory_order_relaxed),
          answered_.load(std::memory_order_relaxed), aborted_.load(std::memory_order_relaxed)};
}

}  // namespace tailcut::upstream

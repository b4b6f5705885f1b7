// Simulator: sampling of delays and faults, and the script player.
#include "upstream/simulator.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <stdexcept>

namespace tailcut::upstream {

void validate(const SimulatorOptions& options) {
  const auto rate_ok = [](double rate) { return rate >= 0.0 && rate <= 1.0; };
  if (options.min_delay.count() < 0 || options.max_delay < options.min_delay) {
    throw std::invalid_argument{"delays: need 0 <= min delay <= max delay"};
  }
  if (!rate_ok(options.error_rate) || !rate_ok(options.invalid_json_rate) ||
      !rate_ok(options.hang_rate) || !rate_ok(options.tail_rate)) {
    throw std::invalid_argument{"fault and tail rates must be between 0 and 1"};
  }
  if (options.error_rate + options.invalid_json_rate + options.hang_rate > 1.0) {
    throw std::invalid_argument{"the fault rates add up to more than 1"};
  }
  if (options.tail_max < options.tail_min) {
    throw std::invalid_argument{"tail delays: need tail min <= tail max"};
  }
}

std::vector<ScriptedAnswer> parse_script(std::string_view json_text) {
  boost::system::error_code error;
  const auto document = boost::json::parse(json_text, error);
  if (error) throw std::invalid_argument{"script is not valid JSON: " + error.message()};
  if (!document.is_array()) throw std::invalid_argument{"script must be a JSON array"};
  std::vector<ScriptedAnswer> script;
  for (const auto& entry : document.as_array()) {
    if (!entry.is_object()) throw std::invalid_argument{"each script entry must be an object"};
    const auto& object = entry.as_object();
    ScriptedAnswer answer;
    if (const auto* delay = object.if_contains("delay_ms")) {
      if (!delay->is_int64() || delay->as_int64() < 0) {
        throw std::invalid_argument{"delay_ms must be a non-negative integer"};
      }
      answer.delay = std::chrono::milliseconds{delay->as_int64()};
    }
    if (const auto* status = object.if_contains("status")) {
      if (!status->is_int64() || status->as_int64() < 100 || status->as_int64() > 599) {
        throw std::invalid_argument{"status must be an integer from 100 to 599"};
      }
      answer.status = static_cast<unsigned>(status->as_int64());
    }
    if (const auto* body = object.if_contains("body")) {
      if (!body->is_string()) throw std::invalid_argument{"body must be a string"};
      answer.body = std::string{body->as_string()};
    }
    if (const auto* hang = object.if_contains("hang")) {
      if (!hang->is_bool()) throw std::invalid_argument{"hang must be true or false"};
      answer.hang = hang->as_bool();
    }
    script.push_back(std::move(answer));
  }
  if (script.empty()) throw std::invalid_argument{"script is empty"};
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

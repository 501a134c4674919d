#include "common/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <nlohmann/json.hpp>

namespace tandem::log {
namespace {

std::string& Service() {
  static std::string s = "tandem";
  return s;
}

std::shared_ptr<spdlog::logger>& Logger() {
  static std::shared_ptr<spdlog::logger> l = [] {
    auto lg = spdlog::stderr_logger_mt("tandem");
    lg->set_pattern("%v");
    lg->flush_on(spdlog::level::info);
    return lg;
  }();
  return l;
}

void Emit(spdlog::level::level_enum lvl, const char* level, const std::string& msg,
          const nlohmann::json* fields) {
  using namespace std::chrono;
  nlohmann::json j;
  j["ts_ms"] = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  j["level"] = level;
  j["service"] = Service();
  j["msg"] = msg;
  if (fields && fields->is_object()) {
    for (auto it = fields->begin(); it != fields->end(); ++it) j[it.key()] = it.value();
  }
  Logger()->log(lvl, "{}", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace

void Init(const std::string& service) {
  Service() = service;
  Logger();
}

void Info(const std::string& msg, const nlohmann::json& f) {
  Emit(spdlog::level::info, "info", msg, &f);
}
void Warn(const std::string& msg, const nlohmann::json& f) {
  Emit(spdlog::level::warn, "warn", msg, &f);
}
void Error(const std::string& msg, const nlohmann::json& f) {
  Emit(spdlog::level::err, "error", msg, &f);
}
void Info(const std::string& msg) { Emit(spdlog::level::info, "info", msg, nullptr); }
void Warn(const std::string& msg) { Emit(spdlog::level::warn, "warn", msg, nullptr); }
void Error(const std::string& msg) { Emit(spdlog::level::err, "error", msg, nullptr); }

}  // namespace tandem::log

// Structured logging: one JSON object per line on stderr.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace tandem::log {

// Names the service in every line ("splitter", "dispatcher", ...). Call once at startup.
void Init(const std::string& service);

void Info(const std::string& msg, const nlohmann::json& fields);
void Warn(const std::string& msg, const nlohmann::json& fields);
void Error(const std::string& msg, const nlohmann::json& fields);
void Info(const std::string& msg);
void Warn(const std::string& msg);
void Error(const std::string& msg);

}  // namespace tandem::log

#pragma once

#include <optional>
#include <string_view>

namespace tandem {

// The value of a top-level member of a JSON object, found in one pass without
// building a tree: compare reads the event name of every raw row, and SQLite's
// json_extract parses each body into nodes first (a sixth of a window's read).
//
// Answers only when certain: `key` is a plain name (not empty; no '.', '[',
// ']', '*', '"', '$' or a backslash), `json` is valid RFC 8259 JSON (as SQLite's
// json_valid judges it), its top level is an object whose keys have no escapes,
// `key` occurs there exactly once, and its value is a string without escapes.
// Then the value's bytes, exactly what json_extract(json, '$.key') returns.
// std::nullopt means "ask a full parser", never "absent".
std::optional<std::string_view> PlainTopLevelString(std::string_view json, std::string_view key);

// Whether `text` is well-formed UTF-8 (RFC 3629: no overlong forms, no
// surrogates, nothing past U+10FFFF), as a JSON text must be: a strict parser
// (nlohmann, trace's) refuses a body that is not, wherever the bad byte is.
bool IsValidUtf8(std::string_view text);

}  // namespace tandem

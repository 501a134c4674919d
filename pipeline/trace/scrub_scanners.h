// The scanners behind the scrubber, one per kind of personal data. Each replaces
// every match in place with a marker ("[email]", "[card]", ...) and returns
// whether it replaced anything. Pure functions, fuzzed and unit tested.
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace tandem::trace::scan {

// local@domain.tld (and local%40domain.tld, as URLs encode it).
bool ReplaceEmails(std::string& s);
// 13 to 19 digits, optionally grouped by single spaces or dashes, passing Luhn.
bool ReplaceCardNumbers(std::string& s);
// Dotted-quad IPv4 and any form inet_pton accepts as IPv6.
bool ReplaceIpAddresses(std::string& s);
// "+" and 8-15 digits (international form), North American 3-3-4 groupings, tel: URIs.
bool ReplacePhoneNumbers(std::string& s);
// The credential after "Bearer " or "Basic " (any case).
bool ReplaceBearerTokens(std::string& s);
// Three base64url segments starting "eyJ" (a JSON header).
bool ReplaceJwts(std::string& s);
// Well-known key prefixes (sk_live_, AKIA, ghp_, xoxb-, AIza, ...), long tokens
// mixing upper case, lower case and digits, and the value of password=, token=,
// api_key=, secret= and the like.
bool ReplaceSecrets(std::string& s);
// In every URL (scheme://... or a path starting "/" with a query): drops
// user:password@, the fragment, and each query parameter `keep` says no to.
bool StripUrlSecrets(std::string& s, const std::function<bool(std::string_view)>& keep);

// Luhn checksum over the digits of `digits` (non-digits ignored).
bool LuhnValid(std::string_view digits);

}  // namespace tandem::trace::scan

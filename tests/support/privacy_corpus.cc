#include "tests/support/privacy_corpus.h"

#include <nlohmann/json.hpp>

namespace tandem::testing {
namespace {

using nlohmann::json;

struct Pii {
  std::string kind;
  std::string value;                   // as a person would type it
  std::vector<std::string> forbidden;  // what must not survive (value, normalised forms)
};

std::vector<Pii> Items() {
  return {
      {"email", "alice@example.com", {"alice@example.com", "alice"}},
      {"email", "bob.smith+tag@mail.co.uk", {"bob.smith", "mail.co.uk"}},
      {"email", "Carol_99@Sub.Domain.org", {"Carol_99", "Sub.Domain.org"}},
      {"email url-encoded", "dave%40example.com", {"dave%40", "dave@"}},
      {"card spaces", "4111 1111 1111 1111", {"4111 1111 1111 1111", "4111111111111111"}},
      {"card dashes", "5500-0000-0000-0004", {"5500-0000-0000-0004", "5500000000000004"}},
      {"card plain", "6011000990139424", {"6011000990139424"}},
      {"card amex", "3400 000000 00009", {"3400 000000 00009", "340000000000009"}},
      {"ipv4", "192.168.1.23", {"192.168.1.23"}},
      {"ipv4 public", "203.0.113.77", {"203.0.113.77"}},
      {"ipv6", "2001:db8::8a2e:370:7334", {"2001:db8::8a2e:370:7334", "8a2e:370:7334"}},
      {"ipv6 link-local", "fe80::1ff:fe23:4567:890a", {"fe80::1ff:fe23:4567:890a", "4567:890a"}},
      {"ipv4-mapped ipv6", "::ffff:192.0.2.128", {"192.0.2.128"}},
      {"phone intl", "+44 20 7946 0958", {"7946 0958", "79460958"}},
      {"phone us intl", "+1 (415) 555-2671", {"555-2671", "5552671"}},
      {"phone us", "(415) 555-2671", {"555-2671"}},
      {"phone dashes", "415-555-2671", {"415-555-2671", "555-2671"}},
      {"phone dots", "415.555.2671", {"415.555.2671"}},
      {"phone de", "+49-30-1234567", {"1234567"}},
      {"phone tel uri", "tel:+15555550100", {"5555550100"}},
      {"bearer", "Bearer abcdef123456789xyz", {"abcdef123456789xyz"}},
      {"bearer lower", "authorization: bearer mF_9.B5f-4.1JqM", {"mF_9.B5f-4.1JqM"}},
      {"jwt",
       "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_"
       "XgL0n3I9PlFUP0THsR8U",
       {"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9", "dozjgNryP4J3jVmNHl0w5N"}},
      {"stripe key", "sk_live_4eC39HqLyjWDarjtT1zdp7dc", {"4eC39HqLyjWDarjtT1zdp7dc"}},
      {"aws key", "AKIAIOSFODNN7EXAMPLE", {"AKIAIOSFODNN7EXAMPLE"}},
      {"github token", "ghp_1234567890abcdefABCDEF1234567890abcd", {"1234567890abcdefABCDEF"}},
      {"slack token", "xoxb-123456789012-abcdefghijkl", {"123456789012-abcdefghijkl"}},
      {"google key", "AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe", {"SyDaGmWKa4JsXZ"}},
      {"generic key", "Zk9xQ2v8LmN4pR7sT1uW3yA6bC0dE5fG", {"Zk9xQ2v8LmN4pR7sT1uW3yA6bC0dE5fG"}},
      {"url token",
       "https://shop.example/reset?token=s3cr3tT0k3n&lang=en",
       {"s3cr3tT0k3n", "token="}},
      {"url userinfo", "https://admin:hunter2@example.com/x", {"hunter2", "admin:"}},
      {"path password", "/login?password=hunter2pass", {"hunter2pass"}},
      {"url fragment token", "https://x.example/cb#access_token=zzzTopSecret1", {"zzzTopSecret1"}},
      {"url email param", "https://x.example/u?email=erin%40example.com", {"erin"}},
      {"keyed password", "password=hunter2pass", {"hunter2pass"}},
      {"keyed api key", "api_key: k3yV4lu3secret", {"k3yV4lu3secret"}},
  };
}

PrivacyCase Base(const std::string& name) {
  PrivacyCase c;
  c.name = name;
  c.user_agent = "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0";
  c.forwarded_for = "198.51.100.24";  // the splitter's own append: anonymised to /24
  c.referer = "https://shop.example/pricing?utm_source=news";
  c.accept_language = "en-US,en;q=0.9";
  c.forbidden = {"198.51.100.24"};
  c.expected = {"pro-annual",    "utm_source=news", "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0",
                "198.51.100.0",  "en-US",           "Order 12345",
                "version 2.3.1", "2026-11-28"};
  return c;
}

json Props(const json& extra) {
  json p = {{"plan", "pro-annual"},
            {"tags", json::array({"Order 12345", "version 2.3.1"})},
            {"page", "2026-11-28"}};
  for (auto& [k, v] : extra.items()) p[k] = v;
  return p;
}

std::string Event(const json& props, const std::string& device = "dev-8f3a2c1b",
                  const json& user = nullptr) {
  json e = {{"event", "signup"}, {"deviceId", device}, {"properties", props}};
  if (!user.is_null()) e["userId"] = user;
  return e.dump();
}

}  // namespace

std::string PrivacyAllowlistYaml() {
  return "  allowlist:\n"
         "    events:\n"
         "      signup: [plan, note, meta, tags, page]\n"
         "      pageview: [path, referrer, title]\n";
}

std::vector<PrivacyCase> PrivacyCorpus() {
  std::vector<PrivacyCase> out;
  for (const Pii& p : Items()) {
    auto add = [&](const std::string& where, std::string body) {
      PrivacyCase c = Base(p.kind + " " + where);
      c.body = std::move(body);
      c.forbidden.insert(c.forbidden.end(), p.forbidden.begin(), p.forbidden.end());
      out.push_back(std::move(c));
      return &out.back();
    };
    add("as a value", Event(Props({{"note", p.value}})));
    add("in free text", Event(Props({{"note", "reach me at " + p.value + " after 5pm, thanks"}})));
    add("nested", Event(Props({{"meta", {{"contact", {{"primary", p.value}}}}}})));
    add("in an array", Event(Props({{"meta", json::array({"first", p.value})}})));
    add("as a nested key", Event(Props({{"meta", {{p.value, "x"}}}})));
    add("off the allowlist", Event(Props({{"email", p.value}, {"debug", p.value}})));
    add("in userId", Event(Props({}), "dev-8f3a2c1b", p.value));
    PrivacyCase* c = add("in the Referer", Event(Props({})));
    c->referer = "https://shop.example/account?utm_source=news&q=" + p.value;
    c->expected.erase(std::remove(c->expected.begin(), c->expected.end(), "utm_source=news"),
                      c->expected.end());
    c = add("in the User-Agent", Event(Props({})));
    c->user_agent = "Mozilla/5.0 " + p.value;
    c->expected.erase(std::remove(c->expected.begin(), c->expected.end(),
                                  "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0"),
                      c->expected.end());
  }
  // Positions that only some kinds can take.
  for (const char* number : {"4111111111111111", "5500000000000004"}) {
    PrivacyCase c = Base(std::string("card as a JSON number ") + number);
    c.body = R"({"event":"signup","deviceId":"dev-8f3a2c1b","properties":{"plan":"pro-annual",)"
             R"("tags":["Order 12345","version 2.3.1"],"page":"2026-11-28","note":)" +
             std::string(number) + "}}";
    c.forbidden.push_back(number);
    out.push_back(std::move(c));
  }
  {
    PrivacyCase c = Base("client address in X-Forwarded-For, IPv6");
    c.body = Event(Props({}));
    c.forwarded_for = "203.0.113.9, 2001:db8:1234:5678::42";
    c.forbidden = {"2001:db8:1234:5678::42", "5678::42", "203.0.113.9"};
    c.expected = {"pro-annual", "2001:db8:1234::"};
    out.push_back(std::move(c));
  }
  {
    PrivacyCase c = Base("email in deviceId");
    c.body = Event(Props({}), "frank@example.com");
    c.forbidden.push_back("frank@example.com");
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace tandem::testing

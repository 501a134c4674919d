// The splitter/dispatcher/trace wire contract (SPEC section 3): the headers the
// splitter stamps on every copy, and the roles a copy can have.
#pragma once

#include <string_view>

namespace tandem::wire {

inline constexpr std::string_view kTandemId = "X-Tandem-Id";
inline constexpr std::string_view kReceivedAt = "X-Tandem-Received-At";
inline constexpr std::string_view kRole = "X-Tandem-Role";
// Set by the forwarder ("1") on an event trace may already have handled (a resend,
// or one sent before a restart): trace then checks its `deliveries` rows first.
inline constexpr std::string_view kRedelivery = "X-Tandem-Redelivery";
// Set by `tandem backfill` to "*" or one tracker's name: trace delivers the
// event again to those trackers that have no `delivered` (or `skipped`) row for
// it, with the payload on record when there is one.
inline constexpr std::string_view kBackfill = "X-Tandem-Backfill";
// On the live copy (and "sent" on the candidate's): what became of the
// candidate's copy when the live copy left (SPEC section 4). The live
// dispatcher stores it in raw.mirror, so compare judges the candidate only on
// the events it was sent.
inline constexpr std::string_view kMirror = "X-Tandem-Mirror";
inline constexpr std::string_view kMirrorSent = "sent";
inline constexpr std::string_view kMirrorSampledOut = "sampled_out";
inline constexpr std::string_view kMirrorShed = "shed";
inline constexpr bool IsMirrorValue(std::string_view v) {
  return v == kMirrorSent || v == kMirrorSampledOut || v == kMirrorShed;
}
// Any header with this prefix from a client is removed before stamping.
inline constexpr std::string_view kPrefix = "X-Tandem-";

inline constexpr std::string_view kRoleLive = "live";
inline constexpr std::string_view kRoleCandidate = "candidate";

// The client headers the dispatcher keeps with each event, for trace's context
// (user agent, client IP, page, locale).
inline constexpr std::string_view kKeptHeaders[] = {
    "Content-Type", "User-Agent", "X-Forwarded-For", "Accept-Language", "Referer", "Origin"};

inline constexpr std::string_view kEventsPath = "/v1/events";
// The forwarder's batches to trace (common/event_batch.h): each event carries the
// headers a single POST to kEventsPath would have.
inline constexpr std::string_view kEventBatchPath = "/v1/event-batch";
inline constexpr std::string_view kEventBatchType = "application/x-tandem-event-batch";

}  // namespace tandem::wire

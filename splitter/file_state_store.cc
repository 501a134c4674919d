// The lone splitter's store: the state file, written before the swap is visible.
#include "splitter/state_store.h"

namespace tandem::splitter {
namespace {

class FileStateStore : public StateStore {
 public:
  explicit FileStateStore(LiveState& state) : state_(state) {}

  void Swap(Color expected_live, SwapDone done) override {
    SwapResult r;
    r.state = state_.Snapshot();
    if (r.state.live != expected_live) {
      r.kind = SwapResult::Kind::kConflict;
      r.detail = "the live color changed meanwhile; try again";
      return done(std::move(r));
    }
    if (auto ec = state_.SetLive(Other(expected_live), r.state)) {
      r.kind = SwapResult::Kind::kFailed;
      r.detail = "cannot persist the state file: " + ec.message();
      return done(std::move(r));
    }
    r.kind = SwapResult::Kind::kSwapped;
    done(std::move(r));
  }

  StoreHealth Health() const override { return {.kind = "file"}; }

 private:
  LiveState& state_;
};

}  // namespace

std::unique_ptr<StateStore> MakeFileStateStore(LiveState& state) {
  return std::make_unique<FileStateStore>(state);
}

}  // namespace tandem::splitter

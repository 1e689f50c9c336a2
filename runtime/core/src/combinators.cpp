// whenAll / whenAny machinery (see combinators.h for the semantics).
#include "moonpool/combinators.h"

#include "moonpool/internal/task_registry.h"
#include "moonpool/spawn.h"

namespace moonpool::internal {

namespace {

ChildCoroutine driveChild(ErasedTask task) {
  // Start the child with this frame as its continuation; its result stays in its own frame.
  struct StartChild {
    ErasedTask task;
    bool await_ready() const noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> self) const noexcept {
      task.promise->continuation = self;
      return task.handle;
    }
    void await_resume() const noexcept {}
  };
  co_await StartChild{task};
}

}  // namespace

void ChildCoroutine::promise_type::Report::await_suspend(
    std::coroutine_handle<promise_type> self) const noexcept {
  self.promise().owner->childDone(self.promise().index);
}

void ChildCoroutine::promise_type::unhandled_exception() noexcept {
  checkFailed("driveChild does not throw", "an exception escaped a combinator child driver",
              std::source_location::current());
}

CombinatorBase::~CombinatorBase() {
  if (wake_.scheduled()) executor_->unschedule(wake_);
  MOONPOOL_CHECK(children_.empty(), "the typed combinator destroys its children first");
}

void CombinatorBase::bind(std::vector<ErasedTask> tasks) {
  tasks_ = std::move(tasks);
  finished_.assign(tasks_.size(), false);
  children_.reserve(tasks_.size());
  for (std::size_t i = 0; i < tasks_.size(); ++i) {
    ChildCoroutine child = driveChild(tasks_[i]);
    child.handle.promise().owner = this;
    child.handle.promise().index = i;
    children_.push_back(child.handle);
  }
}

void CombinatorBase::destroyChildren() {
  // Driver frames only; the Tasks (owned by the subclass) are destroyed right after, which
  // cancels any child still running.
  for (auto child : children_) child.destroy();
  children_.clear();
}

void CombinatorBase::await_suspend(std::coroutine_handle<> parent) {
  executor_ = &Executor::current();
  wake_.coroutine = parent;
  wake_.task = executor_->taskRegistry().current();
  wake_.kind = WakeKind::kCombinator;
  noteAwaiting(*executor_, label_);
  // Start every child; each runs until its first suspension. Completions during this loop
  // only schedule the parent, which resumes through the executor.
  for (auto child : children_) child.resume();
}

void CombinatorBase::childDone(std::size_t index) {
  MOONPOOL_CHECK(!finished_[index], "a combinator child finishes once");
  finished_[index] = true;
  ++finishedCount_;
  if (tasks_[index].promise->failed && firstFailure_ == npos) firstFailure_ = index;
  if (!woken_ && conditionMet()) {
    woken_ = true;
    executor_->schedule(wake_);
  }
}

bool CombinatorBase::conditionMet() const {
  if (mode_ == Mode::kAny) return finishedCount_ > 0;
  return finishedCount_ == tasks_.size() || firstFailure_ != npos;
}

std::size_t CombinatorBase::chooseWinner() {
  std::vector<std::size_t> candidates;
  for (std::size_t i = 0; i < finished_.size(); ++i) {
    if (finished_[i]) candidates.push_back(i);
  }
  MOONPOOL_CHECK(!candidates.empty(), "whenAny resumed with no finished child");
  if (candidates.size() == 1) return candidates.front();
  const std::size_t pick = executor_->chooseIndex(candidates.size());
  MOONPOOL_CHECK_LT(pick, candidates.size());
  return candidates[pick];
}

}  // namespace moonpool::internal

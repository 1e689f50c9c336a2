// test/coverage: the ignorelist probe (see probe.h). Every template here is instantiated with
// types of this namespace (Key, Count), so the `listed` and `raw` copies share no inline
// function: the linker keeps one copy of an inline function per binary, instrumented or not,
// which would blur what each copy's ignorelist did.
#include "probe.h"

#include <absl/strings/str_cat.h>
#include <absl/strings/str_join.h>

#include <map>
#include <optional>
#include <tuple>
#include <vector>

#include "moonpool/channel.h"
#include "moonpool/combinators.h"
#include "moonpool/event.h"
#include "moonpool/sim/simulation.h"
#include "moonpool/task.h"

namespace moonpool::covtest::COVTEST_NS {
namespace {

struct Key {
  int value = 0;
  bool operator<(const Key& other) const { return value < other.value; }
};

struct Count {
  int hits = 0;
};

Task<Key> produce(Channel<Key>* channel, int n) {
  for (int i = 0; i < n; ++i) co_await channel->send(Key{i});
  channel->close();
  co_return Key{n};
}

Task<Key> consume(Channel<Key>* channel, Event* done) {
  int sum = 0;
  while (std::optional<Key> item = co_await channel->receive()) sum += item->value;
  done->set();
  co_return Key{sum};
}

Task<void> pipeline(Channel<Key>* channel, Event* done, int n, int* out) {
  std::tuple<Key, Key> results = co_await whenAll(produce(channel, n), consume(channel, done));
  co_await done->wait();
  *out = std::get<1>(results).value;
}

}  // namespace

int mapWorkload(int n) {
  std::map<Key, Count> table;
  for (int i = 0; i < n; ++i) table[Key{i % 7}].hits += 1;
  int odd = 0;
  for (const auto& [key, count] : table) {
    if (key.value % 2 == 1) odd += count.hits;
  }
  table.erase(Key{3});
  return odd + static_cast<int>(table.size());
}

int channelWorkload(int n) {
  Simulation sim(SimOptions{.seed = 1});
  Channel<Key> channel(4);
  Event done;
  int out = -1;
  const RunOutcome outcome = sim.run(pipeline(&channel, &done, n, &out));
  return outcome.ok() ? out : -1;
}

std::string describe(int n) {
  std::vector<Key> keys;
  for (int i = 0; i < n; ++i) keys.push_back(Key{i});
  return absl::StrCat("keys ", absl::StrJoin(keys, ",", [](std::string* out, const Key& key) {
                        absl::StrAppend(out, key.value);
                      }));
}

}  // namespace moonpool::covtest::COVTEST_NS

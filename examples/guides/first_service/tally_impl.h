// "Your first service": the implementation, plain C++ against the interface. The same class
// is served in the simulation (tally_sim.cpp) and by the real process (tally_node.cpp).
#pragma once

#include <map>

#include "tally.h"

namespace guide {

class TallyImpl final : public Tally {
 public:
  // implements Tally
  moonpool::Task<std::int64_t> add(Entry entry) override {
    co_return totals_[entry.name] += entry.amount;
  }
  moonpool::Task<std::int64_t> total(std::string name) override { co_return totals_[name]; }

 private:
  std::map<std::string, std::int64_t> totals_;
};

}  // namespace guide

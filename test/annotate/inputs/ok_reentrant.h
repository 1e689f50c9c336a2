// Plugin input: [[moonpool::reentrant]] where it belongs: on an actor (after
// [[moonpool::actor]], in one list or two) and on an actor's methods.
#pragma once
#include <cstdint>
#include "moonpool/task.h"

class [[moonpool::actor, moonpool::reentrant]] Gossip {
 public:
  moonpool::Task<int32_t> count();
};

class [[moonpool::actor]] [[moonpool::reentrant]] Chatter {
 public:
  moonpool::Task<int32_t> count();
};

class [[moonpool::actor]] Counter {
 public:
  moonpool::Task<int32_t> add(int32_t amount);
  [[moonpool::reentrant]] moonpool::Task<int32_t> get();
};

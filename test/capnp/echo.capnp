# Test schema for the rpc suite: an echo service with calls that wait, count nesting and
# measure payloads, so tests can hold calls in flight and probe the reader limits.
@0xa7655121d87da358;

interface Echo {
  echo @0 (text :Text) -> (text :Text);
  # Answers after `delayMs` milliseconds of the server's time.
  slowEcho @1 (text :Text, delayMs :UInt32) -> (text :Text);
  # How deeply `tree` nests (reading it is what the nesting limit guards).
  depth @2 (tree :Tree) -> (depth :UInt32);
  # The size of `data` in bytes.
  size @3 (data :Data) -> (size :UInt64);
}

struct Tree {
  children @0 :List(Tree);
}

// Compiled by hostile_test against the glue generated from ok_glue_compiles.h: the generated
// remote and client take the interface's default arguments.
#include "ok_glue_compiles.moonpool.h"

moonpool::Task<int32_t> scanBoth(hostile::schema::ScannerRemote& remote,
                                 hostile::schema::ScannerClient& client) {
  const int32_t viaRemote = co_await remote.scan("a");
  const int32_t viaClient = co_await client.scan("b", 3);
  co_return viaRemote + viaClient;
}

// Goal: no file includes a header from a layer it may not depend on, and layers.txt, the one
// place the graph is written, is well-formed. Method: the checker first runs on planted
// in-memory trees (a fake layers.txt, fake header paths, fake file text), where each
// forbidden edge must fire and each allowed one must not; then on every file of the tree.
#include <gtest/gtest.h>

#include <algorithm>

#include "layers.h"
#include "tree.h"

namespace moonpool::lint {
namespace {

constexpr std::string_view kFakeLayers = R"(
# a comment
layer core runtime/core/
layer sim runtime/sim/
layer runner runtime/runner/
layer capnp capnp/
layer explorer explorer/
layer examples examples/
allow sim -> core
allow runner -> core sim explorer
allow capnp -> core sim
allow examples -> core sim runner capnp explorer   # trailing comment
public-only examples
)";

const std::vector<std::string> kFakeTree = {
    "runtime/core/include/moonpool/task.h",
    "runtime/core/include/moonpool/internal/check.h",
    "runtime/core/src/task.cpp",
    "runtime/sim/include/moonpool/sim/world.h",
    "runtime/runner/include/moonpool/runner/runner.h",
    "capnp/include/moonpool/rpc/peer.h",
    "explorer/include/moonpool/explorer/explorer.h",
};

struct Planted {
  LayerTable table;
  HeaderIndex headers;
};

Planted planted() {
  std::vector<std::string> errors;
  Planted p{parseLayers(kFakeLayers, errors), {}};
  for (const std::string& error : errors) ADD_FAILURE() << error;
  p.headers = indexHeaders(p.table, kFakeTree);
  return p;
}

std::vector<Finding> check(std::string_view path, std::string_view text) {
  const Planted p = planted();
  return checkIncludes(p.table, p.headers, path, text);
}

TEST(LayersTest, HeadersBelongToTheLayerHoldingThem) {
  const Planted p = planted();
  EXPECT_EQ(p.headers.owner.at("moonpool/task.h"), "core");
  EXPECT_EQ(p.headers.owner.at("moonpool/internal/check.h"), "core");
  EXPECT_EQ(p.headers.owner.at("moonpool/rpc/peer.h"), "capnp");
  EXPECT_FALSE(p.headers.owner.contains("moonpool/task.cpp"));
  EXPECT_TRUE(p.headers.conflicts.empty());
  const HeaderIndex twice =
      indexHeaders(p.table, {"runtime/core/include/moonpool/x.h", "capnp/include/moonpool/x.h"});
  EXPECT_EQ(twice.conflicts, std::vector<std::string>{"moonpool/x.h"});
}

TEST(LayersTest, ForbiddenEdgesFire) {
  const std::vector<Finding> core =
      check("runtime/core/src/x.cpp", "#include \"moonpool/rpc/peer.h\"");
  ASSERT_EQ(core.size(), 1u);
  EXPECT_EQ(format(core[0]),
            "runtime/core/src/x.cpp:1: layer: core may not include moonpool/rpc/peer.h (capnp); "
            "allowed: none");
  const std::vector<Finding> sim =
      check("runtime/sim/src/x.cpp", "// x\n#include <moonpool/runner/runner.h>\n");
  ASSERT_EQ(sim.size(), 1u);
  EXPECT_EQ(format(sim[0]),
            "runtime/sim/src/x.cpp:2: layer: sim may not include moonpool/runner/runner.h "
            "(runner); allowed: core");
  EXPECT_EQ(check("explorer/src/x.cpp", "  #  include \"moonpool/task.h\"").size(), 1u);
  const std::vector<Finding> internal =
      check("examples/kv/x.h", "#include \"moonpool/internal/check.h\"");
  ASSERT_EQ(internal.size(), 1u);
  EXPECT_EQ(internal[0].subject, "moonpool/internal/check.h");
  EXPECT_EQ(internal[0].message,
            "examples may not include moonpool/internal/check.h (core); allowed: capnp, core, "
            "explorer, runner, sim, public headers only");
}

TEST(LayersTest, UnknownHeadersAndFilesOutsideEveryLayerFire) {
  const std::vector<Finding> unknown =
      check("runtime/sim/src/x.cpp", "#include \"moonpool/nope.h\"");
  ASSERT_EQ(unknown.size(), 1u);
  EXPECT_EQ(unknown[0].message, "moonpool/nope.h is in no layer's include/ directory");
  EXPECT_EQ(check("elsewhere/x.cpp", "").size(), 1u);
}

TEST(LayersTest, AllowedEdgesDoNotFire) {
  EXPECT_TRUE(check("runtime/sim/src/x.cpp", "#include \"moonpool/task.h\"\n"
                                             "#include \"moonpool/sim/world.h\"")
                  .empty());
  EXPECT_TRUE(check("runtime/runner/src/x.cpp", "#include \"moonpool/explorer/explorer.h\"")
                  .empty());
  EXPECT_TRUE(check("examples/kv/x.cpp", "#include \"moonpool/rpc/peer.h\"\n"
                                         "#include \"moonpool/runner/runner.h\"")
                  .empty());
  // Only the examples are public-only: a layer may use its own internal headers.
  EXPECT_TRUE(check("runtime/core/src/x.cpp", "#include \"moonpool/internal/check.h\"").empty());
  // Not directives: a comment, a raw string (annotate/ emits code), a streamed literal.
  EXPECT_TRUE(check("explorer/src/x.cpp", "// #include \"moonpool/task.h\"\n"
                                          "/*\n#include \"moonpool/task.h\"\n*/\n"
                                          "auto s = R\"(\n#include \"moonpool/task.h\"\n)\";\n"
                                          "out << \"#include \\\"moonpool/task.h\\\"\\n\";")
                  .empty());
  // Non-moonpool includes are not the layer rule's business.
  EXPECT_TRUE(check("explorer/src/x.cpp", "#include <kj/async.h>\n#include \"local.h\"").empty());
}

TEST(LayersTest, MalformedLayerFilesAreReported) {
  std::vector<std::string> errors;
  parseLayers("layer a x/\nlayer b x/\nallow a -> c\nallow b c\nlayer a y/\nfrobnicate\n",
              errors);
  EXPECT_EQ(errors.size(), 5u);
  const LayerTable pending = parseLayers("pending examples/x.h moonpool/internal/check.h", errors);
  EXPECT_TRUE(pending.pending.contains({"examples/x.h", "moonpool/internal/check.h"}));
}

TEST(LayersTest, TheTreeFollowsTheLayerGraph) {
  std::vector<std::string> errors;
  const LayerTable table = parseLayers(readFile(MOONPOOL_LAYERS_FILE), errors);
  for (const std::string& error : errors) ADD_FAILURE() << "layers.txt: " << error;
  ASSERT_GT(table.layers.size(), 5u) << "cannot read " << MOONPOOL_LAYERS_FILE;
  const std::vector<SourceFile> files = readSourceTree(
      MOONPOOL_SOURCE_DIR, {"runtime", "capnp", "explorer", "instrument", "annotate", "examples"});
  std::vector<std::string> paths;
  for (const SourceFile& file : files) paths.push_back(file.path);
  const HeaderIndex headers = indexHeaders(table, paths);
  for (const std::string& h : headers.conflicts) ADD_FAILURE() << h << " is in two layers";
  auto pending = table.pending;  // what is left is stale
  for (const SourceFile& file : files) {
    for (const Finding& f : checkIncludes(table, headers, file.path, file.text)) {
      if (pending.erase({f.path, f.subject}) > 0 || table.pending.contains({f.path, f.subject})) {
        continue;
      }
      ADD_FAILURE() << format(f);
    }
  }
  for (const auto& [path, header] : pending) {
    ADD_FAILURE() << "layers.txt: stale `pending " << path << " " << header
                  << "`: the include is gone; delete the line";
  }
  EXPECT_GT(files.size(), 50u);
}

}  // namespace
}  // namespace moonpool::lint

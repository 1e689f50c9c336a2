// Goal: instrument/coverage_ignorelist.txt tracks the runtime's names. Every class and function
// a public header declares directly in namespace moonpool has its `fun:` line (else its header
// code lands in users' edge maps), every runtime sub-namespace has one, and no line names what
// no longer exists. Method: the name scanner is first run on must-find and must-not-find
// snippets; then on every public header, and its names are compared with the list's.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "ignorelist_names.h"
#include "tree.h"

namespace moonpool::lint {
namespace {

std::vector<std::string> names(std::string_view text, NameKind kind) {
  std::vector<std::string> out;
  for (const DirectName& n : scanMoonpoolNames(text).names) {
    if (n.kind == kind) out.push_back(n.name);
  }
  return out;
}

using Names = std::vector<std::string>;

TEST(IgnorelistTest, FindsClassesAndFunctionsDirectlyInMoonpool) {
  constexpr std::string_view kText = R"(
namespace moonpool {
class Plain;
template <typename T>
class [[nodiscard]] Task final : public internal::Base<T> {
 public:
  void member();
  class Nested {};
  friend bool operator==(const Task&, const Task&) = default;
  friend void hiddenFriend(Task&) {}
  template <typename U> friend Task<U> friendTemplate(U u) { return {}; }
};
struct Options { int x = 1; std::function<void()> f = [] { local(); }; };
union Bits { int i; float f; };
enum class Kind : std::uint8_t { kA, kB };
enum Old { kOld };
[[nodiscard]] Task<void> declared(int x = f(1), Options o = {});
template <typename T>
  requires std::is_integral_v<T>
T defined(T t) { if (t) { return t; } return T{}; }
inline auto trailing(int) -> int { return 0; }
Kind parse(std::string_view s) noexcept;
}  // namespace moonpool
namespace moonpool {  // reopened
struct Again {};
}
)";
  EXPECT_EQ(names(kText, NameKind::kClass), (Names{"Task", "Options", "Bits", "Again"}));
  EXPECT_EQ(names(kText, NameKind::kClassDecl), Names{"Plain"});
  EXPECT_EQ(names(kText, NameKind::kEnum), (Names{"Kind", "Old"}));
  EXPECT_EQ(names(kText, NameKind::kFunction),
            (Names{"hiddenFriend", "friendTemplate", "declared", "defined", "trailing", "parse"}));
  const ScanResult scan = scanMoonpoolNames(kText);
  ASSERT_GE(scan.names.size(), 2u);
  EXPECT_EQ(scan.names[0].line, 3);
  EXPECT_EQ(scan.names[1].line, 5);  // the name's line, not its `template <...>` one
}

TEST(IgnorelistTest, IgnoresEverythingElse) {
  constexpr std::string_view kText = R"(
#define MOONPOOL_DECLARE(x) namespace moonpool { void x(); }
// namespace moonpool { void commented(); }
namespace other { void elsewhere(); }
namespace moonpool::internal { void helper(); class Hidden {}; }
namespace moonpool {
namespace internal {
struct AlsoHidden { void f(); };
}  // namespace internal
using Alias = Task<int>;
using internal::helper;
template <typename T> using TAlias = Task<T>;
typedef int OldAlias;
inline constexpr std::string_view kName = "namespace moonpool { void inString(); }";
inline const Options kDefaults{.x = 2};
constexpr auto kComputed = compute(3);
template <typename T> concept Awaitable = requires(T t) { t.await_ready(); };
static_assert(sizeof(int) == 4);
Task<void> Task<void>::outOfLine() { return {}; }
bool operator<(const Kind a, const Kind b);
MOONPOOL_DECLARE(viaMacro);
class Holder {
  void member() {}
  static Holder make();
  friend class Plain;
};
extern "C" { void cLinkage(); }
}  // namespace moonpool
void global();
)";
  const ScanResult scan = scanMoonpoolNames(kText);
  Names found;
  for (const DirectName& n : scan.names) found.push_back(n.name);
  EXPECT_EQ(found, Names{"Holder"});
  EXPECT_EQ(scan.children, std::set<std::string>{"internal"});
}

TEST(IgnorelistTest, ParsesPerNameEntries) {
  constexpr std::string_view kList =
      "# fun:_Z{,Z}N{,K,R,O,KR,KO}8moonpool4Gone*\n"
      "fun:_Z{,Z}N{,K,R,O,KR,KO}S{t,a,b,s,i,o,d}*\n"
      "fun:_Z{,Z}N{,K,R,O,KR,KO}8moonpool[a-z]*\n"
      "fun:_Z{,Z}N{,K,R,O,KR,KO}8moonpool8internal*\n"
      "fun:_Z{,Z}N{,K,R,O,KR,KO}8moonpool9SimKjLoop*  \n"
      "fun:_ZN8moonpool4Task*\n"
      "fun:_Z{,Z}N{,K,R,O,KR,KO}8moonpool5Task*\n";
  std::vector<std::string> errors;
  const std::vector<ListedName> listed = parseIgnorelist(kList, errors);
  ASSERT_EQ(listed.size(), 2u);
  EXPECT_EQ(listed[0].name, "internal");
  EXPECT_EQ(listed[1].name, "SimKjLoop");
  EXPECT_EQ(listed[1].line, 5);
  ASSERT_EQ(errors.size(), 2u);  // a partial prefix, a wrong length
  EXPECT_TRUE(errors[0].starts_with("6: "));
  EXPECT_TRUE(errors[1].starts_with("7: "));
}

bool isPublicHeader(const std::string& path) {
  if (!path.ends_with(".h")) return false;
  if (path.starts_with("runtime/")) return path.find("/include/moonpool/") != std::string::npos;
  for (std::string_view dir : {"capnp/include/moonpool/", "explorer/include/moonpool/",
                               "instrument/coverage/include/moonpool/"}) {
    if (path.starts_with(dir)) return true;
  }
  return false;
}

TEST(IgnorelistTest, TheListNamesEveryRuntimeName) {
  std::vector<std::string> errors;
  const std::string listPath = MOONPOOL_SOURCE_DIR "/instrument/coverage_ignorelist.txt";
  const std::vector<ListedName> listed = parseIgnorelist(readFile(listPath), errors);
  for (const std::string& e : errors) ADD_FAILURE() << "coverage_ignorelist.txt:" << e;
  ASSERT_GT(listed.size(), 50u) << "cannot read " << listPath;

  std::map<std::string, std::string> needed;  // name -> where it is declared first
  std::map<std::string, std::string> other;   // enums and bodiless classes: no code of their own
  std::map<std::string, std::string> children;
  int headers = 0;
  for (const SourceFile& file : readSourceTree(
           MOONPOOL_SOURCE_DIR, {"runtime", "capnp", "explorer", "instrument/coverage"})) {
    if (!isPublicHeader(file.path)) continue;
    ++headers;
    const ScanResult scan = scanMoonpoolNames(file.text);
    for (const DirectName& n : scan.names) {
      const std::string where = file.path + ":" + std::to_string(n.line);
      const bool code = n.kind == NameKind::kClass || n.kind == NameKind::kFunction;
      (code ? needed : other).emplace(n.name, where);
    }
    for (const std::string& child : scan.children) children.emplace(child, file.path);
  }
  EXPECT_GT(headers, 40);

  std::map<std::string, int> lines;
  for (const ListedName& n : listed) {
    if (!lines.emplace(n.name, n.line).second) {
      ADD_FAILURE() << "coverage_ignorelist.txt:" << n.line << ": " << n.name << " twice";
    }
  }
  for (const auto& [name, where] : needed) {
    if (lines.contains(name)) continue;
    ADD_FAILURE() << where << ": moonpool::" << name << " is not in coverage_ignorelist.txt; add "
                  << "fun:_Z{,Z}N{,K,R,O,KR,KO}8moonpool" << name.size() << name << "*";
  }
  for (const auto& [name, where] : children) {
    if (lines.contains(name) || where.starts_with("instrument/")) continue;
    ADD_FAILURE() << where << ": namespace moonpool::" << name
                  << " is not in coverage_ignorelist.txt";
  }
  for (const auto& [name, line] : lines) {
    if (needed.contains(name) || children.contains(name)) continue;
    ADD_FAILURE() << "coverage_ignorelist.txt:" << line << ": stale: moonpool::" << name
                  << (other.contains(name) ? " has no code of its own (" + other.at(name) + ")"
                                           : " is declared in no public header")
                  << "; delete the line";
  }
}

}  // namespace
}  // namespace moonpool::lint

// Goal: functions, files and lines stay within STYLE.md rule 15's limits, except the items the
// ratchet list records, and that list only shrinks. Method: the function finder first runs on
// must-fire and must-not-fire snippets (classes, initializer lists, lambdas, braces in strings
// and comments, enum bodies); the ratchet comparison on planted measurements; then every file
// in scope is measured and compared with test/lint/ratchet.txt.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "function_scanner.h"
#include "size_limits.h"
#include "tree.h"

namespace moonpool::lint {
namespace {

// "name:first-last" for each function found, in order.
std::vector<std::string> spans(std::string_view text) {
  std::vector<std::string> out;
  for (const FunctionSpan& f : findFunctions(text)) {
    out.push_back(f.name + ":" + std::to_string(f.firstLine) + "-" + std::to_string(f.lastLine));
  }
  return out;
}

using Spans = std::vector<std::string>;

TEST(FunctionScannerTest, FindsFreeFunctionsMethodsAndConstructors) {
  EXPECT_EQ(spans("int f(int x) {\n  if (x) {\n    return 1;\n  }\n  return 0;\n}\n"),
            Spans{"f:1-6"});
  EXPECT_EQ(spans("namespace a {\nclass Foo final : public Bar {\n public:\n"
                  "  Foo(int x) : x_(x), y_{x} {}\n  int get() const noexcept { return x_; }\n"
                  "};\n}  // namespace a\n"),
            (Spans{"Foo::Foo:4-4", "Foo::get:5-5"}));
  EXPECT_EQ(spans("Foo::Foo(int x)\n    : Base(x),\n      y_{x, 2} {\n  run();\n}\n"),
            Spans{"Foo::Foo:1-5"});
  EXPECT_EQ(spans("template <typename T>\nauto Foo<T>::bar() const -> std::vector<T> {\n}\n"),
            Spans{"Foo::bar:1-3"});
  EXPECT_EQ(spans("bool operator==(const A&, const A&) {\n}\n"
                  "void operator()(int) && noexcept(true) {}\nexplicit operator bool() const {}\n"),
            (Spans{"operator==:1-2", "operator():3-3", "operator bool:4-4"}));
  EXPECT_EQ(spans("TEST(LintTest, Rules) {\n  EXPECT_TRUE(x);\n}\n"),
            Spans{"TEST(LintTest,Rules):1-3"});
  EXPECT_EQ(spans("void f(Options o = Options{}) requires Small<T> {\n}\n"), Spans{"f:1-2"});
  EXPECT_EQ(spans("const auto kPick = [](int x) mutable {\n  return x;\n};\n"), Spans{"kPick:1-3"});
}

TEST(FunctionScannerTest, QualifiesByEnclosingClasses) {
  EXPECT_EQ(spans("class Outer {\n private:\n  struct Inner {\n    void f() {}\n  };\n"
                  "  enum E { kA };\n public:\n  ~Outer() { g(); }\n};\n"
                  "Outer::~Outer() {}\nvoid Outer::Inner::h() {}\n"),
            (Spans{"Outer::Inner::f:4-4", "Outer::~Outer:8-8", "Outer::~Outer:10-10",
                   "Outer::Inner::h:11-11"}));
}

TEST(FunctionScannerTest, NestedBlocksAndLambdasCountTowardTheirFunction) {
  EXPECT_EQ(spans("void f() {\n  auto g = [&](int y) {\n    for (;;) {}\n  };\n"
                  "  struct Local { void h() {} };\n}\nvoid k() {}\n"),
            (Spans{"f:1-6", "k:7-7"}));
}

TEST(FunctionScannerTest, IgnoresBracesInStringsCommentsAndDirectives) {
  EXPECT_EQ(spans("void f() {\n  s = \"}\";\n  c = '}';\n  // }\n  /* } */\n"
                  "  r = R\"x(})\" })x\";\n  n = 1'000;\n}\n"),
            Spans{"f:1-8"});
  EXPECT_EQ(spans("#define OPEN(x) void x() {\n#if A\n#include <x>\n#endif\nvoid f() {\n}\n"),
            Spans{"f:5-6"});
}

TEST(FunctionScannerTest, ClassEnumAndInitializerBodiesAreNotFunctions) {
  EXPECT_TRUE(spans("struct S {\n  int x = 0;\n};\n").empty());
  EXPECT_TRUE(spans("enum class E : std::uint8_t {\n  kA,\n  kB,\n};\n").empty());
  EXPECT_TRUE(spans("const std::vector<Rule> kRules = {\n  {\"a\", f(1)},\n};\n").empty());
  EXPECT_TRUE(spans("extern \"C\" {\nint x;\n}\nnamespace a::b {\nint y{f(2)};\n}\n").empty());
  EXPECT_TRUE(spans("template <typename T>\nconcept C = requires(T t) {\n  t.f();\n};\n").empty());
  EXPECT_EQ(spans("template <class T>\nstruct alignas(8) Box {\n  T get() { return t; }\n};\n"),
            Spans{"Box::get:3-3"});
}

TEST(SizeLimitsTest, MeasuresOnlyWhatIsOverALimit) {
  const std::string wide(kColumnsMax + 1, 'x');
  const std::string fits(kColumnsMax, 'x');
  EXPECT_TRUE(measureFile("a.cpp", fits + "\n// \xc3\xa9" + fits.substr(4) + "\n").empty());
  std::string body = "void f() {\n";
  for (int i = 0; i < kFunctionLinesMax - 2; ++i) body += "  x();\n";
  EXPECT_TRUE(measureFile("a.cpp", body + "}\n").empty());
  const std::vector<Measurement> over = measureFile("a.cpp", body + "  y();\n}\n" + wide + "\n");
  ASSERT_EQ(over.size(), 2u);
  EXPECT_EQ(over[0].kind + over[0].key, "columnsa.cpp");
  EXPECT_EQ(over[0].line, kFunctionLinesMax + 2);
  EXPECT_EQ(over[1].key, "a.cpp:f");
  EXPECT_EQ(over[1].value, kFunctionLinesMax + 1);
  const std::string longFile(kFileLinesMax + 1, '\n');
  EXPECT_EQ(measureFile("a.cpp", longFile).at(0).value, kFileLinesMax + 1);
  EXPECT_TRUE(measureFile("a.cpp", "// long file: one table\n" + longFile).empty());
  EXPECT_FALSE(measureFile("a.cpp", "// long file:\n" + longFile).empty());
  EXPECT_FALSE(measureFile("a.cpp", "// x\n// long file: late\n" + longFile).empty());
  EXPECT_TRUE(inSizeScope("test/lint/lint_test.cpp"));
  EXPECT_FALSE(inSizeScope("test/annotate/golden/x.h"));
  EXPECT_FALSE(inSizeScope("build/dev/x.cpp"));
}

std::vector<std::string> compare(const std::vector<Measurement>& now, std::string_view listed) {
  std::vector<std::string> errors;
  const std::vector<RatchetEntry> ratchet = parseRatchet(listed, errors);
  EXPECT_TRUE(errors.empty());
  std::vector<std::string> out;
  for (const Finding& f : compareRatchet(now, ratchet, "ratchet.txt")) out.push_back(format(f));
  return out;
}

TEST(SizeLimitsTest, TheRatchetOnlyShrinks) {
  const std::vector<Measurement> now = {
      {"function", "a.cpp:f", 80, 3}, {"file", "b.cpp", 600, 1}, {"columns", "c.cpp", 2, 9}};
  EXPECT_TRUE(compare(now, "function a.cpp:f 80\nfile b.cpp 700 # shrank\ncolumns c.cpp 2\n")
                  .empty());
  EXPECT_EQ(compare(now, "function a.cpp:f 79\nfile b.cpp 600\n"),
            (std::vector<std::string>{
                "c.cpp:9: size: 2 lines over 100 columns; wrap them (ratchet.txt only shrinks)",
                "a.cpp:3: size: function f is 80 lines (limit 70), worse than the 79 recorded "
                "in ratchet.txt; split it"}));
  EXPECT_EQ(compare({}, "# nothing is over\n\nfile b.cpp 600\n"),
            std::vector<std::string>{"ratchet.txt:3: size: stale entry `file b.cpp 600`: the "
                                     "item now meets its limit or is gone; delete the line"});
}

TEST(SizeLimitsTest, OverloadsSharingANameMatchLargestToLargest) {
  std::vector<Measurement> now = {{"function", "a.cpp:g", 75, 1}, {"function", "a.cpp:g", 90, 9}};
  EXPECT_TRUE(compare(now, "function a.cpp:g 90\nfunction a.cpp:g 75\n").empty());
  EXPECT_EQ(compare(now, "function a.cpp:g 75\nfunction a.cpp:g 89\n").size(), 1u);
  now.push_back({"function", "a.cpp:g", 71, 30});
  EXPECT_EQ(compare(now, "function a.cpp:g 75\nfunction a.cpp:g 90\n").size(), 1u);
  std::vector<std::string> errors;
  parseRatchet("function a.cpp:g\nlines a.cpp 3\nfile a.cpp 0\nfile a.cpp x\n", errors);
  EXPECT_EQ(errors.size(), 4u);
}

// The list is regenerated, not edited by hand: MOONPOOL_LINT_WRITE_RATCHET=1 rewrites it from
// the tree (see its header) and skips the comparison.
TEST(SizeLimitsTest, TheTreeKeepsItsRatchet) {
  const std::vector<SourceFile> files =
      readSourceTree(MOONPOOL_SOURCE_DIR, {"runtime", "capnp", "explorer", "instrument",
                                           "annotate", "examples", "test"});
  std::vector<Measurement> measured;
  for (const SourceFile& file : files) {
    if (!inSizeScope(file.path)) continue;
    for (Measurement& m : measureFile(file.path, file.text)) measured.push_back(std::move(m));
  }
  EXPECT_GT(files.size(), 100u);
  if (std::getenv("MOONPOOL_LINT_WRITE_RATCHET") != nullptr) {
    std::ofstream(MOONPOOL_RATCHET_FILE, std::ios::binary) << formatRatchet(measured);
    GTEST_SKIP() << "wrote " << measured.size() << " entries to " << MOONPOOL_RATCHET_FILE;
  }
  std::vector<std::string> errors;
  const std::vector<RatchetEntry> ratchet = parseRatchet(readFile(MOONPOOL_RATCHET_FILE), errors);
  for (const std::string& error : errors) ADD_FAILURE() << "ratchet.txt: " << error;
  for (const Finding& f : compareRatchet(measured, ratchet, "test/lint/ratchet.txt")) {
    ADD_FAILURE() << format(f);
  }
}

}  // namespace
}  // namespace moonpool::lint

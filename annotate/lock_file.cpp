// The lock file format: parser, printer and type spelling (see lock_file.h).
#include "lock_file.h"

#include <array>
#include <cctype>
#include <optional>
#include <sstream>

#include "attributes.h"
#include "capnp_names.h"

namespace moonpool::annotate {
namespace {

constexpr std::string_view kMagic = "moonpool-lock";
constexpr std::string_view kRetiredWord = "retired";
constexpr std::string_view kArrow = "->";
constexpr size_t kOrdinalDigitsMax = 5;  // kOrdinalMax has 5 digits

constexpr std::array<std::string_view, 14> kScalarTypes = {
    "Bool",   "Int8",   "Int16",   "Int32",   "Int64", "UInt8", "UInt16",
    "UInt32", "UInt64", "Float32", "Float64", "Text",  "Data",  "Void"};

bool isScalarType(std::string_view name) {
  for (std::string_view scalar : kScalarTypes) {
    if (scalar == name) return true;
  }
  return false;
}

// [A-Za-z][A-Za-z0-9]*: what Cap'n Proto accepts as a member or type name.
bool isSchemaName(std::string_view name) {
  if (name.empty() || !std::isalpha(static_cast<unsigned char>(name[0]))) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// C++ identifiers separated by "::".
bool isQualifiedName(std::string_view name) {
  size_t start = 0;
  while (true) {
    size_t end = name.find("::", start);
    std::string_view part = name.substr(start, end == std::string_view::npos ? end : end - start);
    if (part.empty() || std::isdigit(static_cast<unsigned char>(part[0]))) return false;
    for (char c : part) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
    }
    if (end == std::string_view::npos) return true;
    start = end + 2;
  }
}

struct Token {
  std::string_view text;
  int column = 0;  // 1-based
};

std::vector<Token> tokenize(std::string_view line) {
  std::vector<Token> tokens;
  size_t i = 0;
  auto isSpace = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  while (i < line.size()) {
    if (isSpace(line[i])) {
      ++i;
      continue;
    }
    size_t start = i;
    while (i < line.size() && !isSpace(line[i])) ++i;
    tokens.push_back({line.substr(start, i - start), static_cast<int>(start) + 1});
  }
  return tokens;
}

// Recursive descent over one type expression; `problem` is set on the first error.
class TypeReader {
 public:
  explicit TypeReader(std::string_view text) : text_(text) {}

  // Empty when `text` is exactly one well-formed type (Void only if `allowVoid`).
  std::string check(bool allowVoid) {
    std::string_view name = readName();
    if (name == "Void" && !allowVoid) problem_ = "'Void' is only a method result";
    readRest(name);
    if (problem_.empty() && pos_ != text_.size()) problem_ = "unexpected text after the type";
    return problem_.empty() ? "" : "malformed type '" + std::string(text_) + "': " + problem_;
  }

 private:
  std::string_view readName() {
    size_t start = pos_;
    while (pos_ < text_.size() && std::isalnum(static_cast<unsigned char>(text_[pos_]))) ++pos_;
    return text_.substr(start, pos_ - start);
  }

  void expect(char c) {
    if (!problem_.empty()) return;
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return;
    }
    problem_ = std::string("expected '") + c + "'";
  }

  void readType() {
    if (!problem_.empty()) return;
    std::string_view name = readName();
    if (name == "Void") {
      problem_ = "'Void' is only a method result";
      return;
    }
    readRest(name);
  }

  void readRest(std::string_view name) {
    if (!problem_.empty() || (isScalarType(name) && (pos_ == text_.size() || text_[pos_] != '('))) {
      return;
    }
    if (name != "List" && name != "Optional" && name != "Map" && name != "Struct" &&
        name != "Enum") {
      problem_ = name.empty() ? "expected a type" : "unknown type '" + std::string(name) + "'";
      return;
    }
    expect('(');
    if (name == "Struct" || name == "Enum") {
      if (problem_.empty() && !isSchemaName(readName())) problem_ = "expected a type name";
    } else {
      readType();
      if (name == "Map") {
        expect(',');
        readType();
      }
    }
    expect(')');
  }

  std::string_view text_;
  size_t pos_ = 0;
  std::string problem_;
};

std::optional<LockKind> kindFromWord(std::string_view word) {
  if (word == "message") return LockKind::kMessage;
  if (word == "service") return LockKind::kService;
  if (word == "actor") return LockKind::kActor;
  if (word == "enum") return LockKind::kEnum;
  return std::nullopt;
}

bool isStateWord(std::string_view word) {
  return word == "field" || word == "method" || word == "enumerant" || word == kRetiredWord;
}

// One pass over the lines; stops at the first error.
class LockParser {
 public:
  explicit LockParser(std::string_view text) : text_(text) {}

  std::variant<LockFile, LockSyntaxError> run() {
    int lineNumber = 0;
    size_t start = 0;
    while (start <= text_.size() && !error_.has_value()) {
      size_t end = text_.find('\n', start);
      if (end == std::string_view::npos) end = text_.size();
      ++lineNumber;
      parseLine(lineNumber, tokenize(text_.substr(start, end - start)));
      start = end + 1;
    }
    if (!error_.has_value() && !sawHeader_) {
      fail(1, 1, "empty lock file: expected 'moonpool-lock " +
                     std::to_string(kLockFormatVersion) +
                     "' first; delete the file to have it written again");
    }
    if (error_.has_value()) return *error_;
    return std::move(lock_);
  }

 private:
  void fail(int line, int column, std::string message) {
    if (!error_.has_value()) error_ = LockSyntaxError{line, column, std::move(message)};
  }

  void parseLine(int line, const std::vector<Token>& tokens) {
    if (tokens.empty() || tokens[0].text.front() == '#') return;
    if (!sawHeader_) {
      header(line, tokens);
    } else if (std::optional<LockKind> kind = kindFromWord(tokens[0].text)) {
      record(line, *kind, tokens);
    } else if (isStateWord(tokens[0].text)) {
      member(line, tokens);
    } else {
      fail(line, tokens[0].column,
           "unknown line '" + std::string(tokens[0].text) +
               "'; expected a type line (message, service, actor, enum) or a member line "
               "(field, method, enumerant, retired)");
    }
  }

  void header(int line, const std::vector<Token>& tokens) {
    if (tokens[0].text != kMagic || tokens.size() != 2) {
      fail(line, tokens[0].column,
           "expected 'moonpool-lock " + std::to_string(kLockFormatVersion) +
               "' before anything else; this is not a moonpool-annotate lock file");
      return;
    }
    if (tokens[1].text != std::to_string(kLockFormatVersion)) {
      fail(line, tokens[1].column,
           "lock file version '" + std::string(tokens[1].text) +
               "' is not supported; this moonpool-annotate reads version " +
               std::to_string(kLockFormatVersion));
      return;
    }
    sawHeader_ = true;
  }

  void record(int line, LockKind kind, const std::vector<Token>& tokens) {
    if (tokens.size() != 2 || !isQualifiedName(tokens[1].text)) {
      int column = tokens.size() > 1 ? tokens[1].column : tokens[0].column;
      fail(line, column,
           std::string("expected '") + lockKindWord(kind) + " <qualified C++ name>'");
      return;
    }
    std::string name(tokens[1].text);
    auto [it, inserted] = lock_.records.emplace(name, LockRecord{kind, name, {}, line});
    if (!inserted) {
      fail(line, tokens[1].column, "type '" + name + "' appears twice (first on line " +
                                       std::to_string(it->second.line) + ")");
      return;
    }
    current_ = &it->second;
    liveNames_.clear();
  }

  void member(int line, const std::vector<Token>& tokens);
  bool memberRest(int line, const std::vector<Token>& tokens, LockEntry& entry);
  bool methodRest(int line, const std::vector<Token>& tokens, LockEntry& entry);
  bool checkType(int line, const Token& token, bool allowVoid);
  std::optional<int> ordinal(int line, const std::vector<Token>& tokens);

  std::string_view text_;
  LockFile lock_;
  LockRecord* current_ = nullptr;
  bool sawHeader_ = false;
  std::map<std::string, int> liveNames_;  // of the current record: schema name -> line
  std::optional<LockSyntaxError> error_;
};

std::optional<int> LockParser::ordinal(int line, const std::vector<Token>& tokens) {
  if (tokens.size() < 2) {
    fail(line, tokens[0].column, "expected an ordinal after '" + std::string(tokens[0].text) + "'");
    return std::nullopt;
  }
  std::string_view text = tokens[1].text;
  bool digits = !text.empty() && text.size() <= kOrdinalDigitsMax;
  for (char c : text) digits = digits && std::isdigit(static_cast<unsigned char>(c));
  if (!digits || std::stoi(std::string(text)) > kOrdinalMax) {
    fail(line, tokens[1].column, "expected an ordinal (0 to " + std::to_string(kOrdinalMax) +
                                     "), found '" + std::string(text) + "'");
    return std::nullopt;
  }
  int value = std::stoi(std::string(text));
  int expected = static_cast<int>(current_->entries.size());
  if (value != expected) {
    fail(line, tokens[1].column,
         "ordinal " + std::to_string(value) + " out of order in '" + current_->qualifiedName +
             "': expected " + std::to_string(expected) +
             " (ordinals are listed in order, from 0, without holes)");
    return std::nullopt;
  }
  return value;
}

void LockParser::member(int line, const std::vector<Token>& tokens) {
  if (current_ == nullptr) {
    fail(line, tokens[0].column, "member line before any type line");
    return;
  }
  std::string_view state = tokens[0].text;
  const char* live = liveStateWord(current_->kind);
  if (state != kRetiredWord && state != live) {
    fail(line, tokens[0].column,
         "'" + std::string(state) + "' in " + lockKindWord(current_->kind) + " '" +
             current_->qualifiedName + "'; its members are '" + live + "' or 'retired'");
    return;
  }
  std::optional<int> value = ordinal(line, tokens);
  if (!value.has_value()) return;
  if (tokens.size() < 3 || !isSchemaName(tokens[2].text)) {
    int column = tokens.size() < 3 ? tokens[1].column : tokens[2].column;
    fail(line, column, "expected a schema member name (letters and digits, starting with a "
                       "letter) after the ordinal");
    return;
  }
  LockEntry entry;
  entry.state = state == kRetiredWord ? LockState::kRetired : LockState::kLive;
  entry.ordinal = *value;
  entry.name = std::string(tokens[2].text);
  entry.line = line;
  if (!memberRest(line, tokens, entry)) return;
  if (entry.state == LockState::kLive) {
    auto [it, inserted] = liveNames_.emplace(entry.name, line);
    if (!inserted) {
      fail(line, tokens[2].column, "member '" + entry.name + "' appears twice in '" +
                                       current_->qualifiedName + "' (first on line " +
                                       std::to_string(it->second) + ")");
      return;
    }
  }
  current_->entries.push_back(std::move(entry));
}

// Whatever follows the name: a field's type, a method's signature, nothing for enumerants.
bool LockParser::memberRest(int line, const std::vector<Token>& tokens, LockEntry& entry) {
  switch (current_->kind) {
    case LockKind::kEnum:
      if (tokens.size() > 3) {
        fail(line, tokens[3].column,
             "unexpected '" + std::string(tokens[3].text) + "' after the enumerant's name");
        return false;
      }
      return true;
    case LockKind::kMessage:
      if (tokens.size() < 4) {
        fail(line, tokens[2].column, "expected the type of field '" + entry.name + "'");
        return false;
      }
      if (tokens.size() > 4) {
        fail(line, tokens[4].column,
             "unexpected '" + std::string(tokens[4].text) + "' after the field's type");
        return false;
      }
      if (!checkType(line, tokens[3], /*allowVoid=*/false)) return false;
      entry.type = std::string(tokens[3].text);
      return true;
    case LockKind::kService:
    case LockKind::kActor:
      return methodRest(line, tokens, entry);
  }
  return false;
}

// `name:Type ... -> Result`
bool LockParser::methodRest(int line, const std::vector<Token>& tokens, LockEntry& entry) {
  size_t i = 3;
  for (; i < tokens.size() && tokens[i].text != kArrow; ++i) {
    std::string_view text = tokens[i].text;
    size_t colon = text.find(':');
    if (colon == std::string_view::npos || !isSchemaName(text.substr(0, colon))) {
      fail(line, tokens[i].column,
           "expected a parameter 'name:Type' or '->', found '" + std::string(text) + "'");
      return false;
    }
    Token type{text.substr(colon + 1), tokens[i].column + static_cast<int>(colon) + 1};
    if (!checkType(line, type, /*allowVoid=*/false)) return false;
    entry.params.push_back({std::string(text.substr(0, colon)), std::string(type.text)});
  }
  if (i + 1 >= tokens.size()) {
    fail(line, tokens.back().column,
         "expected '-> <result type>' at the end of method '" + entry.name + "'");
    return false;
  }
  if (i + 2 < tokens.size()) {
    fail(line, tokens[i + 2].column,
         "unexpected '" + std::string(tokens[i + 2].text) + "' after the result type");
    return false;
  }
  if (!checkType(line, tokens[i + 1], /*allowVoid=*/true)) return false;
  entry.type = std::string(tokens[i + 1].text);
  return true;
}

bool LockParser::checkType(int line, const Token& token, bool allowVoid) {
  std::string problem = TypeReader(token.text).check(allowVoid);
  if (problem.empty()) return true;
  fail(line, token.column, problem);
  return false;
}

void printEntry(const LockRecord& record, const LockEntry& entry, std::ostringstream& out) {
  out << "  "
      << (entry.state == LockState::kRetired ? std::string(kRetiredWord)
                                             : liveStateWord(record.kind))
      << " " << entry.ordinal << " " << entry.name;
  if (record.kind == LockKind::kMessage) out << " " << entry.type;
  if (record.kind == LockKind::kService || record.kind == LockKind::kActor) {
    for (const LockParam& param : entry.params) out << " " << param.name << ":" << param.type;
    out << " -> " << entry.type;
  }
  out << "\n";
}

}  // namespace

std::variant<LockFile, LockSyntaxError> parseLockFile(std::string_view text) {
  return LockParser(text).run();
}

std::string printLockFile(const LockFile& lock, const std::string& headerName) {
  std::ostringstream out;
  out << "# Ordinal lock of " << headerName << ", written by moonpool-annotate: the wire "
      << "history of its\n# schema. Commit it next to the header. Breaking changes fail the "
      << "build; to retire a\n# member for good, change its first word to 'retired' (see "
      << "annotate/README.md, \"Evolution\").\n"
      << kMagic << " " << kLockFormatVersion << "\n";
  for (const auto& [name, record] : lock.records) {
    out << "\n" << lockKindWord(record.kind) << " " << name << "\n";
    for (const LockEntry& entry : record.entries) printEntry(record, entry, out);
  }
  return out.str();
}

const char* lockKindWord(LockKind kind) {
  switch (kind) {
    case LockKind::kMessage: return "message";
    case LockKind::kService: return "service";
    case LockKind::kActor: return "actor";
    case LockKind::kEnum: return "enum";
  }
  return "?";
}

const char* liveStateWord(LockKind kind) {
  switch (kind) {
    case LockKind::kMessage: return "field";
    case LockKind::kService:
    case LockKind::kActor: return "method";
    case LockKind::kEnum: return "enumerant";
  }
  return "?";
}

std::string lockTypeOf(const TypeRef& type) {
  if (const char* scalar = scalarCapnpName(type.kind)) return scalar;
  switch (type.kind) {
    case TypeKind::kList: return "List(" + lockTypeOf(type.args.at(0)) + ")";
    case TypeKind::kOptional: return "Optional(" + lockTypeOf(type.args.at(0)) + ")";
    case TypeKind::kMap:
      return "Map(" + lockTypeOf(type.args.at(0)) + "," + lockTypeOf(type.args.at(1)) + ")";
    case TypeKind::kEnum: return "Enum(" + helperTypeName(type) + ")";
    case TypeKind::kMessage: return "Struct(" + helperTypeName(type) + ")";
    default: return "Unsupported";
  }
}

std::string placeholderTypeOf(std::string_view lockType) {
  if (lockType.find('(') == std::string_view::npos) return std::string(lockType);
  if (lockType.substr(0, 5) == "Enum(") return "UInt16";
  return "AnyPointer";
}

}  // namespace moonpool::annotate

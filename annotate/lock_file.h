// The ordinal lock file (annotate/ layer): the wire history of one header's schema, kept
// next to the header as `<stem>.moonpool.lock` and committed with it (README.md "Evolution").
//
// A small line-oriented text format, written sorted (types by qualified C++ name, members by
// ordinal) so that diffs stay small and reviewable:
//
//   # comment lines and blank lines are ignored
//   moonpool-lock 1
//
//   message demo::Put
//     field 0 key Text
//     retired 1 value Text
//     field 2 version UInt64
//   service demo::KvStore
//     method 0 get key:Text -> Optional(Text)
//   enum demo::Color
//     enumerant 0 red
//
// A type line is `message|service|actor|enum <qualified C++ name>`; each member line below it
// is `<state> <ordinal> <schema name> ...`, with state `field` (messages), `method` (services,
// actors), `enumerant` (enums), or `retired` for an ordinal that is never to be reused (the
// schema keeps a placeholder there). Fields add their type, methods their parameters
// (`name:Type`) and `-> <result type>`. Types: Void (results only), Bool, Int8..Int64,
// UInt8..UInt64, Float32, Float64, Text, Data, List(T), Optional(T), Map(K,V), Struct(Name),
// Enum(Name). Ordinals of one type are listed in order, from 0, without holes.
//
// Parsing never crashes on bad input: the first problem comes back with its line and column.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "ir.h"

namespace moonpool::annotate {

inline constexpr int kLockFormatVersion = 1;

enum class LockKind { kMessage, kService, kActor, kEnum };
enum class LockState { kLive, kRetired };

struct LockParam {
  std::string name;  // schema name
  std::string type;  // lock type ("List(Text)")
};

struct LockEntry {
  LockState state = LockState::kLive;
  int ordinal = 0;
  std::string name;  // schema name ("userId")
  // Fields: the field's type; methods: the result type; enumerants: empty.
  std::string type;
  std::vector<LockParam> params;  // methods only
  int line = 0;                   // 1-based line in the lock file; 0 if not read from one
};

struct LockRecord {
  LockKind kind = LockKind::kMessage;
  std::string qualifiedName;
  std::vector<LockEntry> entries;  // entries[i].ordinal == i
  int line = 0;
};

struct LockFile {
  std::map<std::string, LockRecord> records;  // by qualified name, hence sorted
};

struct LockSyntaxError {
  int line = 0;
  int column = 0;
  std::string message;
};

std::variant<LockFile, LockSyntaxError> parseLockFile(std::string_view text);

// The canonical text: `headerName` goes into the opening comment only.
std::string printLockFile(const LockFile& lock, const std::string& headerName);

// "message", "service", "actor", "enum".
const char* lockKindWord(LockKind kind);

// The state word of a live member of that kind: "field", "method", "enumerant".
const char* liveStateWord(LockKind kind);

// A type as the lock file writes it: "UInt64", "List(Text)", "Optional(Struct(Put))",
// "Map(Text,Enum(Color))". Unlike the schema expression it names no helper struct and keeps
// enums and structs apart, so any change of wire shape changes the text.
std::string lockTypeOf(const TypeRef& type);

// The schema type of a retired field's placeholder, layout-equivalent to `lockType` (so the
// struct's layout does not move) without naming types that may no longer exist: scalars as
// they are, enums as UInt16 (Cap'n Proto enums are 16-bit), everything else AnyPointer.
std::string placeholderTypeOf(std::string_view lockType);

}  // namespace moonpool::annotate

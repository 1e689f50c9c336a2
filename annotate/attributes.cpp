// Registration of the moonpool attributes with clang (annotate/ layer).
//
// Built twice from this one file: into moonpool-annotate, and into the MODULE library
// libmoonpool_attrs.so loaded with `clang++-19 -fplugin=...`. Registration is through
// clang's own static registry (`ParsedAttrInfoRegistry::Add`): that is the only mechanism
// clang offers a plugin, so the usual "register explicitly" rule (STYLE.md) yields here.
//
// clang-19 workaround (toolchain.md P2): a plugin attribute with only a scoped spelling
// (`moonpool::service`) has its argument list skipped silently and is invisible to
// `__has_cpp_attribute`. Each attribute therefore also gets the unscoped spelling
// (`service`), and handleDeclAttribute rejects a missing or foreign scope. With the
// unscoped spelling present, clang parses arguments and reports them itself, since the
// attributes take none (NumArgs = OptArgs = 0).
#include "attributes.h"

#include <clang/AST/ASTContext.h>
#include <clang/AST/Attr.h>
#include <clang/AST/DeclCXX.h>
#include <clang/Basic/DiagnosticSema.h>
#include <clang/Basic/ParsedAttrInfo.h>
#include <clang/Sema/ParsedAttr.h>
#include <clang/Sema/Sema.h>

namespace moonpool::annotate {
namespace {

using clang::ParsedAttr;
using clang::ParsedAttrInfo;

constexpr char kScope[] = "moonpool";

// True for a class or struct (not a union, not an enum).
bool isClassOrStruct(const clang::Decl* decl) {
  const auto* record = llvm::dyn_cast<clang::CXXRecordDecl>(decl);
  return record != nullptr && (record->isClass() || record->isStruct());
}

// One attribute: `[[moonpool::<name>]]` on a class or struct, lowered to AnnotateAttr.
// `Annotation` is the full scoped name ("moonpool::service"); the unscoped alias skips the
// scope and "::" (sizeof(kScope) counts the terminating zero, so +1 skips both colons).
template <const char* Annotation>
class MoonpoolAttrInfo final : public ParsedAttrInfo {
 public:
  MoonpoolAttrInfo() {
    static constexpr Spelling kSpellings[] = {
        {ParsedAttr::AS_CXX11, Annotation},
        {ParsedAttr::AS_CXX11, Annotation + sizeof(kScope) + 1},
    };
    Spellings = kSpellings;
  }

  // implements ParsedAttrInfo
  bool diagAppertainsToDecl(clang::Sema& sema, const ParsedAttr& attr,
                            const clang::Decl* decl) const override {
    if (isClassOrStruct(decl)) return true;
    unsigned id = sema.getDiagnostics().getCustomDiagID(
        clang::DiagnosticsEngine::Error,
        "'%0' only applies to classes and structs; write it after the class-key, as in "
        "'struct [[%0]] Name'");
    sema.Diag(attr.getLoc(), id) << Annotation;
    return false;
  }

  AttrHandling handleDeclAttribute(clang::Sema& sema, clang::Decl* decl,
                                   const ParsedAttr& attr) const override {
    const clang::IdentifierInfo* scope = attr.getScopeName();
    if (scope == nullptr || scope->getName() != kScope) {
      // The unscoped alias exists only for the P2 workaround: `[[service]]` or
      // `[[other::service]]` are not ours, so they are ignored like any unknown attribute.
      sema.Diag(attr.getLoc(), clang::diag::warn_unknown_attribute_ignored)
          << attr << attr.getRange();
      return AttributeNotApplied;
    }
    if (attr.getNumArgs() != 0) {
      unsigned id = sema.getDiagnostics().getCustomDiagID(
          clang::DiagnosticsEngine::Error, "'%0' takes no arguments; remove them");
      sema.Diag(attr.getLoc(), id) << Annotation;
      return AttributeNotApplied;
    }
    decl->addAttr(clang::AnnotateAttr::Create(sema.Context, Annotation, nullptr, 0,
                                              attr.getRange()));
    return AttributeApplied;
  }
};

// Static registrations: clang walks this registry when it meets an unknown attribute.
clang::ParsedAttrInfoRegistry::Add<MoonpoolAttrInfo<kServiceAnnotation>> registerService(
    "moonpool-service", "[[moonpool::service]]: an RPC service interface");
clang::ParsedAttrInfoRegistry::Add<MoonpoolAttrInfo<kActorAnnotation>> registerActor(
    "moonpool-actor", "[[moonpool::actor]]: a virtual actor class");
clang::ParsedAttrInfoRegistry::Add<MoonpoolAttrInfo<kMessageAnnotation>> registerMessage(
    "moonpool-message", "[[moonpool::message]]: a serializable struct");

}  // namespace
}  // namespace moonpool::annotate

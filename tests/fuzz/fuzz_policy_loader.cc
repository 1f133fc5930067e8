// libFuzzer target: the policy loader, and the compiler behind it.
//
// Any input must load or be refused with positioned errors, never crash,
// hang or leak; a policy that loads must compile for every node, twice to
// the same bytes, and render as text.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "control/compile/compile.h"
#include "control/compile/tables_codec.h"
#include "control/compile/tables_text.h"
#include "control/model/loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace weft::policy;
  weft::Diagnostics diags;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto model = load_policy_text(text, "fuzz.yaml", diags);
  if (!model) {
    if (diags.ok()) __builtin_trap();  // refused without saying why
    for (const auto& d : diags.items())
      if (d.message.empty() || d.pos.file != "fuzz.yaml") __builtin_trap();
    return 0;
  }
  if (!diags.ok()) __builtin_trap();  // accepted despite errors
  for (const auto& [node, tables] : compile_all(*model)) {
    if (serialize_tables(compile_node(*model, node)) != serialize_tables(tables)) __builtin_trap();
    (void)render_text(tables_to_text(tables));
  }
  return 0;
}

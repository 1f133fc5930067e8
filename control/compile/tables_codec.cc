#include "control/compile/tables_codec.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/util/json_util.h>

namespace weft::policy {

std::string serialize_tables(const proto::NodeTables& tables) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    tables.SerializeToCodedStream(&coded);
  }  // the coded stream flushes into `out` here
  return out;
}

std::optional<proto::NodeTables> parse_tables(const std::string& bytes) {
  proto::NodeTables t;
  if (!t.ParseFromString(bytes)) return std::nullopt;
  return t;
}

std::string tables_to_json(const proto::NodeTables& tables) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string out;
  // Printing a well-formed message cannot fail; an empty result would show it.
  (void)google::protobuf::util::MessageToJsonString(tables, &out, options);
  return out;
}

}  // namespace weft::policy

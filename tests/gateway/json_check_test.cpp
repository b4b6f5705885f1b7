// json_shape(): what the gateway takes for a successful upstream body.
#include "gateway/json_check.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace tailcut::gateway {
namespace {

struct ShapeCase {
  std::string_view text;
  JsonShape shape;
};

class JsonShapeTest : public ::testing::TestWithParam<ShapeCase> {};

TEST_P(JsonShapeTest, TellsObjectsFromOtherValuesAndFromInvalidText) {
  EXPECT_EQ(json_shape(GetParam().text), GetParam().shape) << "text: " << GetParam().text;
}

INSTANTIATE_TEST_SUITE_P(
    Bodies, JsonShapeTest,
    ::testing::Values(
        ShapeCase{R"({"time": 120})", JsonShape::object}, ShapeCase{"{}", JsonShape::object},
        ShapeCase{" \r\n{\"a\":[1,{\"b\":null}]}\n ", JsonShape::object},
        ShapeCase{R"({"s":"caf\u00e9","n":-1.5e3,"t":true})", JsonShape::object},
        ShapeCase{"[1,2]", JsonShape::other_value}, ShapeCase{"[{}]", JsonShape::other_value},
        ShapeCase{R"("text")", JsonShape::other_value}, ShapeCase{"42", JsonShape::other_value},
        ShapeCase{"-0.5", JsonShape::other_value}, ShapeCase{"true", JsonShape::other_value},
        ShapeCase{"null", JsonShape::other_value}, ShapeCase{"", JsonShape::invalid},
        ShapeCase{"   ", JsonShape::invalid}, ShapeCase{"{", JsonShape::invalid},
        ShapeCase{R"({"time": 120)", JsonShape::invalid},
        ShapeCase{R"({"time": 120}})", JsonShape::invalid},
        ShapeCase{R"({"a":1} {"b":2})", JsonShape::invalid},
        ShapeCase{R"({"a":1} x)", JsonShape::invalid}, ShapeCase{"{'a':1}", JsonShape::invalid},
        ShapeCase{R"({"a":1,})", JsonShape::invalid},
        ShapeCase{R"({"a":1} // note)", JsonShape::invalid},
        ShapeCase{"not json", JsonShape::invalid},
        ShapeCase{"{\"a\":\"\x01\"}", JsonShape::invalid},
        ShapeCase{std::string_view{"{}\0", 3}, JsonShape::invalid}));

}  // namespace
}  // namespace tailcut::gateway

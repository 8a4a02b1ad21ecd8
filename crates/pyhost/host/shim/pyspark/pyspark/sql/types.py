"""Pure-Python stand-in for ``pyspark.sql.types`` (schema types and ``Row``).

``jsonValue()`` produces the same JSON as real pyspark, which is what the
lakeflow-rs host sends to the engine.
"""

from __future__ import annotations

from typing import Any, Iterator

__all__ = [
    "DataType", "NullType", "StringType", "BinaryType", "BooleanType", "DateType",
    "TimestampType", "TimestampNTZType", "DecimalType", "DoubleType", "FloatType",
    "ByteType", "IntegerType", "LongType", "ShortType", "VariantType", "ArrayType",
    "MapType", "StructField", "StructType", "Row",
]


class DataType:
    """Base of every type."""

    _json_name = ""  # atomic types only
    _simple_name = ""

    def typeName(self) -> str:
        return self._json_name

    def simpleString(self) -> str:
        return self._simple_name or self._json_name

    def jsonValue(self) -> Any:
        return self._json_name

    def json(self) -> str:
        import json

        return json.dumps(self.jsonValue(), separators=(",", ":"), sort_keys=True)

    def needConversion(self) -> bool:
        return False

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and self.__dict__ == other.__dict__

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash(self.simpleString())


class _Atomic(DataType):
    pass


class NullType(_Atomic):
    _json_name = "void"


class StringType(_Atomic):
    _json_name = "string"


class BinaryType(_Atomic):
    _json_name = "binary"


class BooleanType(_Atomic):
    _json_name = "boolean"


class DateType(_Atomic):
    _json_name = "date"


class TimestampType(_Atomic):
    _json_name = "timestamp"


class TimestampNTZType(_Atomic):
    _json_name = "timestamp_ntz"


class DoubleType(_Atomic):
    _json_name = "double"


class FloatType(_Atomic):
    _json_name = "float"


class ByteType(_Atomic):
    _json_name = "byte"
    _simple_name = "tinyint"


class ShortType(_Atomic):
    _json_name = "short"
    _simple_name = "smallint"


class IntegerType(_Atomic):
    _json_name = "integer"
    _simple_name = "int"


class LongType(_Atomic):
    _json_name = "long"
    _simple_name = "bigint"


class VariantType(_Atomic):
    _json_name = "variant"


class DecimalType(_Atomic):
    def __init__(self, precision: int = 10, scale: int = 0):
        self.precision = precision
        self.scale = scale
        self.hasPrecisionInfo = True

    def typeName(self) -> str:
        return "decimal"

    def simpleString(self) -> str:
        return f"decimal({self.precision},{self.scale})"

    def jsonValue(self) -> str:
        return self.simpleString()

    def __repr__(self) -> str:
        return f"DecimalType({self.precision},{self.scale})"


class ArrayType(DataType):
    def __init__(self, elementType: DataType, containsNull: bool = True):
        if not isinstance(elementType, DataType):
            raise TypeError(f"elementType must be a DataType, got {type(elementType).__name__}")
        self.elementType = elementType
        self.containsNull = containsNull

    def typeName(self) -> str:
        return "array"

    def simpleString(self) -> str:
        return f"array<{self.elementType.simpleString()}>"

    def jsonValue(self) -> dict:
        return {
            "type": "array",
            "elementType": self.elementType.jsonValue(),
            "containsNull": self.containsNull,
        }

    def __repr__(self) -> str:
        return f"ArrayType({self.elementType!r}, {self.containsNull})"


class MapType(DataType):
    def __init__(self, keyType: DataType, valueType: DataType, valueContainsNull: bool = True):
        for what, t in (("keyType", keyType), ("valueType", valueType)):
            if not isinstance(t, DataType):
                raise TypeError(f"{what} must be a DataType, got {type(t).__name__}")
        self.keyType = keyType
        self.valueType = valueType
        self.valueContainsNull = valueContainsNull

    def typeName(self) -> str:
        return "map"

    def simpleString(self) -> str:
        return f"map<{self.keyType.simpleString()},{self.valueType.simpleString()}>"

    def jsonValue(self) -> dict:
        return {
            "type": "map",
            "keyType": self.keyType.jsonValue(),
            "valueType": self.valueType.jsonValue(),
            "valueContainsNull": self.valueContainsNull,
        }

    def __repr__(self) -> str:
        return f"MapType({self.keyType!r}, {self.valueType!r}, {self.valueContainsNull})"


class StructField(DataType):
    def __init__(
        self,
        name: str,
        dataType: DataType,
        nullable: bool = True,
        metadata: dict | None = None,
    ):
        if not isinstance(name, str):
            raise TypeError(f"field name must be a str, got {type(name).__name__}")
        if not isinstance(dataType, DataType):
            raise TypeError(
                f"dataType of field {name!r} must be a DataType, got {type(dataType).__name__}"
            )
        self.name = name
        self.dataType = dataType
        self.nullable = nullable
        self.metadata = dict(metadata) if metadata else {}

    def simpleString(self) -> str:
        return f"{self.name}:{self.dataType.simpleString()}"

    def jsonValue(self) -> dict:
        return {
            "name": self.name,
            "type": self.dataType.jsonValue(),
            "nullable": self.nullable,
            "metadata": self.metadata,
        }

    def typeName(self) -> str:
        raise TypeError("StructField has no typeName")

    def __repr__(self) -> str:
        return f"StructField({self.name!r}, {self.dataType!r}, {self.nullable})"


# Type names accepted by StructType.add(name, "<type>"): the JSON names of the
# atomic types (as real pyspark's add() accepts), plus "decimal(p,s)".
_NAMED_TYPES = {
    t._json_name: t
    for t in (
        NullType, StringType, BinaryType, BooleanType, DateType, TimestampType,
        TimestampNTZType, DoubleType, FloatType, ByteType, ShortType, IntegerType,
        LongType, VariantType,
    )
}
_NAMED_TYPES["decimal"] = DecimalType


def _parse_type_name(text: str) -> DataType:
    s = text.strip()
    if s.startswith("decimal(") and s.endswith(")"):
        p, _, sc = s[len("decimal("):-1].partition(",")
        return DecimalType(int(p), int(sc or 0))
    try:
        return _NAMED_TYPES[s]()
    except KeyError:
        raise ValueError(
            f"cannot parse data type {text!r} (the bundled pyspark stand-in only "
            "parses atomic JSON type names such as 'long'; pass a DataType instead)"
        ) from None


class StructType(DataType):
    def __init__(self, fields: list[StructField] | None = None):
        self.fields: list[StructField] = list(fields) if fields else []
        for f in self.fields:
            if not isinstance(f, StructField):
                raise TypeError(f"StructType fields must be StructField, got {type(f).__name__}")
        self.names = [f.name for f in self.fields]

    def add(
        self,
        field: str | StructField,
        data_type: str | DataType | None = None,
        nullable: bool = True,
        metadata: dict | None = None,
    ) -> "StructType":
        if isinstance(field, StructField):
            new = field
        else:
            if data_type is None:
                raise ValueError("data_type is required when field is a name")
            if isinstance(data_type, str):
                data_type = _parse_type_name(data_type)
            new = StructField(field, data_type, nullable, metadata)
        self.fields.append(new)
        self.names.append(new.name)
        return self

    def fieldNames(self) -> list[str]:
        return list(self.names)

    def typeName(self) -> str:
        return "struct"

    def simpleString(self) -> str:
        return "struct<" + ",".join(f.simpleString() for f in self.fields) + ">"

    def jsonValue(self) -> dict:
        return {"type": "struct", "fields": [f.jsonValue() for f in self.fields]}

    def __iter__(self) -> Iterator[StructField]:
        return iter(self.fields)

    def __len__(self) -> int:
        return len(self.fields)

    def __getitem__(self, key):
        if isinstance(key, str):
            for f in self.fields:
                if f.name == key:
                    return f
            raise KeyError(f"No StructField named {key}")
        if isinstance(key, int):
            try:
                return self.fields[key]
            except IndexError:
                raise IndexError("StructType index out of range") from None
        if isinstance(key, slice):
            return StructType(self.fields[key])
        raise TypeError("StructType keys should be strings, integers or slices")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StructType) and self.fields == other.fields

    def __hash__(self) -> int:
        return hash(self.simpleString())

    def __repr__(self) -> str:
        return "StructType([" + ", ".join(repr(f) for f in self.fields) + "])"


class Row(tuple):
    """A row: ``Row(a=1, b=2)`` (named fields) or ``Row("a", "b")`` (a row
    factory: calling it with values gives a named row)."""

    def __new__(cls, *args, **kwargs):
        if args and kwargs:
            raise ValueError("Row takes either positional or keyword arguments, not both")
        if kwargs:
            row = tuple.__new__(cls, list(kwargs.values()))
            row.__fields__ = list(kwargs)
            return row
        return tuple.__new__(cls, args)

    def asDict(self, recursive: bool = False) -> dict:
        if not hasattr(self, "__fields__"):
            raise TypeError("Cannot convert a Row without field names into a dict")
        if not recursive:
            return dict(zip(self.__fields__, self))

        def conv(v):
            if isinstance(v, Row) and hasattr(v, "__fields__"):
                return v.asDict(True)
            if isinstance(v, list):
                return [conv(x) for x in v]
            if isinstance(v, dict):
                return {k: conv(x) for k, x in v.items()}
            return v

        return {k: conv(v) for k, v in zip(self.__fields__, self)}

    def __call__(self, *values):
        if hasattr(self, "__fields__"):
            raise TypeError("a Row with values is not callable")
        if len(values) > len(self):
            raise ValueError(f"too many values for Row fields {list(self)}")
        row = tuple.__new__(Row, values)
        row.__fields__ = list(self)
        return row

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self[self.__fields__.index(name)]
        except (AttributeError, ValueError):
            raise AttributeError(name) from None

    def __repr__(self) -> str:
        if hasattr(self, "__fields__"):
            return "Row(" + ", ".join(f"{k}={v!r}" for k, v in zip(self.__fields__, self)) + ")"
        return "<Row(" + ", ".join(repr(f) for f in self) + ")>"

from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class PredictRequest(_message.Message):
    __slots__ = ("data",)
    DATA_FIELD_NUMBER: _ClassVar[int]
    data: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, data: _Optional[_Iterable[float]] = ...) -> None: ...

class PredictReply(_message.Message):
    __slots__ = ("prediction", "confidence")
    PREDICTION_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    prediction: int
    confidence: float
    def __init__(self, prediction: _Optional[int] = ..., confidence: _Optional[float] = ...) -> None: ...

class StreamRequest(_message.Message):
    __slots__ = ("count", "data")
    COUNT_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    count: int
    data: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, count: _Optional[int] = ..., data: _Optional[_Iterable[float]] = ...) -> None: ...

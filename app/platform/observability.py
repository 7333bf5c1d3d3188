"""Structured JSON logs and CloudWatch EMF metrics, one of each per process.

Every log line is one JSON object on stdout carrying the Lambda request id
(`function_request_id`) and the API Gateway request id (`correlation_id`) of the
invocation being served, in the monolith and in every function alike, so one request can
be followed across them. The keys are the ones Powertools' Logger writes, so queries over
older log lines keep working.

Built on the standard library's `logging` and `json` only: a single-route function pays
for neither a logging framework nor its dependencies at cold start. Lambda's own JSON log
format (LoggingConfig) names the Lambda request id but not API Gateway's; the lines
written here carry both and Lambda passes them through unchanged.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
import time
import traceback
from collections.abc import Callable, Mapping
from typing import Any, TextIO, TypeVar, overload

Handler = TypeVar("Handler", bound=Callable[..., Any])

# What a LogRecord carries on its own; anything else on a record is a key of the line.
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class _StdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to the stream it holds; `setStream` swaps it (tests read their own)."""

    def __init__(self) -> None:
        super().__init__(sys.stdout)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: fixed keys first, then the logger's and the call's keys."""

    def __init__(self, keys: dict[str, Any]) -> None:
        super().__init__()
        self.keys = keys

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "level": record.levelname,
            "location": f"{record.funcName}:{record.lineno}",
            "message": record.getMessage(),
            "timestamp": _iso_millis(record.created),
        }
        line |= {key: value for key, value in self.keys.items() if value is not None}
        line |= {key: value for key, value in vars(record).items() if key not in _RECORD_ATTRIBUTES}
        if record.exc_info and record.exc_info[0] is not None:
            line["exception"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
            line["exception_name"] = record.exc_info[0].__name__
        return json.dumps(line, ensure_ascii=False, default=str, separators=(",", ":"))


def _iso_millis(created: float) -> str:
    seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created))
    return f"{seconds}.{int(created % 1 * 1000):03d}Z"


class JsonLogger:
    """`logger.info("message", key=value)`: the call's keyword arguments become keys of
    the line; `append_keys` adds keys to every following line."""

    def __init__(self, service: str, level: str | int = "INFO") -> None:
        self._keys: dict[str, Any] = {"service": service}
        self._log = logging.getLogger(service)
        self._log.setLevel(level)
        # The Lambda runtime puts its own handler on the root logger: do not print twice.
        self._log.propagate = False
        self.registered_handler: logging.StreamHandler = _StdoutHandler()  # type: ignore[type-arg]
        self.registered_handler.setFormatter(JsonFormatter(self._keys))
        self._log.handlers = [self.registered_handler]
        self._cold_start = True

    def append_keys(self, **keys: Any) -> None:
        self._keys.update(keys)

    def remove_keys(self, names: list[str]) -> None:
        for name in names:
            self._keys.pop(name, None)

    def set_correlation_id(self, value: str | None) -> None:
        self._keys["correlation_id"] = value

    def _emit(self, level: int, message: str, keys: dict[str, Any], exc_info: bool) -> None:
        if not self._log.isEnabledFor(level):
            return
        # The standard library's own arguments keep their meaning, as with Powertools.
        exc_info = bool(keys.pop("exc_info", exc_info))
        keys |= keys.pop("extra", None) or {}
        self._log.log(level, message, exc_info=exc_info, extra=keys, stacklevel=3)

    def debug(self, message: str, **keys: Any) -> None:
        self._emit(logging.DEBUG, message, keys, False)

    def info(self, message: str, **keys: Any) -> None:
        self._emit(logging.INFO, message, keys, False)

    def warning(self, message: str, **keys: Any) -> None:
        self._emit(logging.WARNING, message, keys, False)

    def error(self, message: str, **keys: Any) -> None:
        self._emit(logging.ERROR, message, keys, False)

    def exception(self, message: str, **keys: Any) -> None:
        self._emit(logging.ERROR, message, keys, True)

    def bind_context(self, context: Any) -> None:
        """The Lambda context's keys on every following line; the first call of an
        execution environment is its cold start."""
        self.append_keys(
            cold_start=self._cold_start,
            function_name=getattr(context, "function_name", None),
            function_memory_size=getattr(context, "memory_limit_in_mb", None),
            function_arn=getattr(context, "invoked_function_arn", None),
            function_request_id=getattr(context, "aws_request_id", None),
        )
        self._cold_start = False

    @overload
    def inject_lambda_context(
        self, handler: Handler, *, log_event: bool = ..., clear_state: bool = ...
    ) -> Handler: ...

    @overload
    def inject_lambda_context(
        self, handler: None = None, *, log_event: bool = ..., clear_state: bool = ...
    ) -> Callable[[Handler], Handler]: ...

    def inject_lambda_context(
        self,
        handler: Handler | None = None,
        *,
        log_event: bool = False,
        clear_state: bool = False,
    ) -> Handler | Callable[[Handler], Handler]:
        """Decorate a Lambda handler: its context's keys on every line it logs;
        `clear_state` drops the keys earlier invocations appended; `log_event` logs the
        event first."""

        def decorate(handler: Handler) -> Handler:
            @functools.wraps(handler)
            def wrapped(event: Any, context: Any, *args: Any, **kwargs: Any) -> Any:
                if clear_state:
                    self._keys = {"service": self._keys["service"]}
                    formatter = self.registered_handler.formatter
                    assert isinstance(formatter, JsonFormatter)
                    formatter.keys = self._keys
                self.bind_context(context)
                if log_event:
                    self.info("event", event=event)
                return handler(event, context, *args, **kwargs)

            return wrapped  # type: ignore[return-value]

        return decorate if handler is None else decorate(handler)


logger = JsonLogger(
    service=os.environ.get("POWERTOOLS_SERVICE_NAME", "conduit"),
    level=os.environ.get("LOG_LEVEL", "INFO").upper(),
)


def bind_invocation(event: Mapping[str, Any] | None, context: Any) -> None:
    """Put this invocation's ids on every following log line (replacing the last ones):
    the Lambda request id as `function_request_id`, the API Gateway request id as
    `correlation_id`."""
    request_context = (event or {}).get("requestContext") or {}
    logger.append_keys(function_request_id=getattr(context, "aws_request_id", None))
    logger.set_correlation_id(request_context.get("requestId"))


class Metrics:
    """Counters of one invocation, written as one CloudWatch Embedded Metric Format
    object on stdout when flushed; CloudWatch Logs turns it into metrics, no API call."""

    def __init__(self, namespace: str, service: str, stream: Callable[[], TextIO]) -> None:
        self.namespace = namespace
        self.service = service
        self._stream = stream
        self._values: dict[str, float] = {}
        self._dimensions: dict[str, str] = {}

    def add_dimension(self, name: str, value: str) -> None:
        self._dimensions[name] = value

    def add_count(self, name: str, value: float = 1) -> None:
        self._values[name] = self._values.get(name, 0) + value

    def clear(self) -> None:
        self._values.clear()
        self._dimensions.clear()

    def flush(self) -> None:
        """Write what was counted since the last flush (nothing when nothing was)."""
        if self._values:
            self._write(self._values, {"service": self.service, **self._dimensions})
        self.clear()

    def cold_start(self, function_name: str) -> None:
        """The ColdStart count, in an object of its own with the function's name as its
        dimension, as Powertools writes it."""
        self._write({"ColdStart": 1}, {"service": self.service, "function_name": function_name})

    def _write(self, values: Mapping[str, float], dimensions: Mapping[str, str]) -> None:
        blob: dict[str, Any] = {
            "_aws": {
                "Timestamp": int(time.time() * 1000),
                "CloudWatchMetrics": [
                    {
                        "Namespace": self.namespace,
                        "Dimensions": [list(dimensions)],
                        "Metrics": [{"Name": name, "Unit": "Count"} for name in values],
                    }
                ],
            },
            **dimensions,
            **values,
        }
        stream = self._stream()
        stream.write(json.dumps(blob, separators=(",", ":")) + "\n")
        stream.flush()


metrics = Metrics(
    namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "Conduit"),
    service=os.environ.get("POWERTOOLS_SERVICE_NAME", "conduit"),
    stream=lambda: sys.stdout,
)

"""The message that hands an export to the runner: {"exportId": "<32 hex>"}, nothing else.
The id is all the runner needs; everything else is read from the export's row."""

from __future__ import annotations

import json

from app.exports.lifecycle import is_export_id


class PoisonMessage(ValueError):
    """A message that can never be processed (not JSON, no valid export id, or an export
    that does not exist)."""


def encode_message(export_id: str) -> str:
    return json.dumps({"exportId": export_id}, separators=(",", ":"))


def decode_message(body: str) -> str:
    """The export id of a message; PoisonMessage when it has none."""
    try:
        payload = json.loads(body)
    except (TypeError, ValueError):
        raise PoisonMessage("message body is not JSON") from None
    export_id = payload.get("exportId") if isinstance(payload, dict) else None
    if not is_export_id(export_id):
        raise PoisonMessage("message has no valid exportId")
    assert isinstance(export_id, str)
    return export_id

"""SNS adapter for SMS. Request code never calls it directly: messages are written to
the outbox with the change that causes them (`outbox.sms_item`) and sent afterwards."""

from __future__ import annotations

from portcullis.platform import aws


def send(to: str, message: str, *, sender_id: str | None = None) -> str:
    """Publish one transactional SMS to an E.164 number; returns SNS's message id."""
    attributes = {
        "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
    }
    if sender_id:
        attributes["AWS.SNS.SMS.SenderID"] = {"DataType": "String", "StringValue": sender_id}
    response = aws.client("sns").publish(
        PhoneNumber=to, Message=message, MessageAttributes=attributes
    )
    return str(response.get("MessageId", ""))

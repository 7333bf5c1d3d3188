#!/usr/bin/env bash
# Move the data-export messages in the dead-letter queue back to the exports queue.
#
# Run it after the cause of the failures is fixed (and deployed). Each redriven export is
# retried by the worker: an export marked `failed` is reopened (failed -> pending) and,
# when it succeeds, becomes `done`; its owner sees the result on GET /api/user/exports/<id>.
# Exports that are already done are skipped, so redriving a duplicate is harmless.
#
# usage: scripts/redrive-exports.sh <stage> [messages-per-second]
#        scripts/redrive-exports.sh <stage> --status     (show the latest move task)
#
# Needs the AWS CLI v2 with credentials for the stage's account; the region is AWS_REGION
# (default eu-west-1). Equivalent to:
#   aws sqs start-message-move-task --source-arn <dlq arn> --destination-arn <queue arn>
set -euo pipefail

stage=${1:?usage: scripts/redrive-exports.sh <stage> [messages-per-second|--status]}
rate=${2:-}
region=${AWS_REGION:-eu-west-1}
queue_name="conduit-${stage}-exports"
dlq_name="conduit-${stage}-exports-dlq"

sqs() { aws sqs --region "$region" "$@"; }

queue_arn_of() {
    local url
    url=$(sqs get-queue-url --queue-name "$1" --query QueueUrl --output text)
    sqs get-queue-attributes --queue-url "$url" --attribute-names QueueArn \
        --query Attributes.QueueArn --output text
}

queue_arn=$(queue_arn_of "$queue_name")
dlq_arn=$(queue_arn_of "$dlq_name")
dlq_url=$(sqs get-queue-url --queue-name "$dlq_name" --query QueueUrl --output text)

if [[ "$rate" == "--status" ]]; then
    sqs list-message-move-tasks --source-arn "$dlq_arn" --max-results 1
    exit 0
fi

waiting=$(sqs get-queue-attributes --queue-url "$dlq_url" \
    --attribute-names ApproximateNumberOfMessages \
    --query Attributes.ApproximateNumberOfMessages --output text)
echo "about ${waiting} message(s) in ${dlq_name}; moving them to ${queue_name}"
if [[ "$waiting" == "0" ]]; then
    exit 0
fi

args=(--source-arn "$dlq_arn" --destination-arn "$queue_arn")
if [[ -n "$rate" ]]; then
    args+=(--max-number-of-messages-per-second "$rate")
fi
handle=$(sqs start-message-move-task "${args[@]}" --query TaskHandle --output text)
echo "move task started: ${handle}"

while true; do
    sleep 5
    read -r status moved total < <(sqs list-message-move-tasks --source-arn "$dlq_arn" \
        --max-results 1 \
        --query 'Results[0].[Status,ApproximateNumberOfMessagesMoved,ApproximateNumberOfMessagesToMove]' \
        --output text)
    echo "${status}: ${moved}/${total} moved"
    case "$status" in
        COMPLETED) exit 0 ;;
        FAILED | CANCELLED) exit 1 ;;
    esac
done

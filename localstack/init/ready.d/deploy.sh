#!/usr/bin/env bash
# Deploy Emotionfy into LocalStack (run by LocalStack when it is ready; the repository is mounted at
# /opt/emotionfy). Function names, handlers, the state machine, the routes and the gateway responses come
# from the files Terraform reads, through localstack/render.py.
set -euo pipefail

REPO=/opt/emotionfy
RENDER="python3 $REPO/localstack/render.py"
PREFIX=emotionfy-local
UPLOADS="$PREFIX-uploads"
ARTIFACTS="$PREFIX-artifacts"
PACKAGE="$REPO/localstack/build/function.zip"
# The pipeline functions' image (built by localstack/build.sh). Empty: they run from the zip too, because
# LocalStack Community refuses container-image functions ("Container images are a Pro feature"); set with
# LocalStack Pro (docker-compose.pro.yml), as the cloud runs them.
PIPELINE_IMAGE="${EMOTIONFY_PIPELINE_IMAGE:-}"
REGION="${AWS_DEFAULT_REGION:-us-east-1}"
WORK="$(mktemp -d)"

test -f "$PACKAGE" || { echo "emotionfy: $PACKAGE is missing: run localstack/build.sh first" >&2; exit 1; }

echo "emotionfy: secrets in SSM (the functions read them by parameter name, as in the cloud)"
awslocal ssm put-parameter --name "/$PREFIX/jwt-secret" --type SecureString --overwrite \
  --value "$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')" >/dev/null
awslocal ssm put-parameter --name "/$PREFIX/mongodb-uri" --type SecureString --overwrite \
  --value "mongodb://mongo:27017/?directConnection=true" >/dev/null

echo "emotionfy: buckets"
awslocal s3 mb "s3://$UPLOADS" >/dev/null
awslocal s3 mb "s3://$ARTIFACTS" >/dev/null
# Versioned as in the cloud, so deleting a video, a study's content or an account purges every version.
awslocal s3api put-bucket-versioning --bucket "$UPLOADS" --versioning-configuration Status=Enabled
# As modules/storage: the site's POST/PUT of uploads/ and content/, ranged GETs for playback.
awslocal s3api put-bucket-cors --bucket "$UPLOADS" --cors-configuration "$($RENDER cors)"
awslocal s3 cp "$PACKAGE" "s3://$ARTIFACTS/function.zip" >/dev/null

echo "emotionfy: functions"
ROLE_ARN=$(awslocal iam create-role --role-name "$PREFIX" --query Role.Arn --output text \
  --assume-role-policy-document '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
    "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]}, "Action": "sts:AssumeRole"}]}')
$RENDER environment > "$WORK/environment.json"
$RENDER environment "" image > "$WORK/environment-image.json"
$RENDER functions | while read -r key handler package; do
  name=$($RENDER name "$key")
  timeout=30
  memory=1024
  case "$key" in
    pipeline_analyze_segment) timeout=600; memory=3008 ;;
    pipeline_probe | pipeline_merge | retention) timeout=300 ;;
  esac
  if [ "$package" = Image ] && [ -n "$PIPELINE_IMAGE" ]; then
    # As modules/lambdas: the image, with this function's handler as its command.
    awslocal lambda create-function --function-name "$name" --package-type Image \
      --code "ImageUri=$PIPELINE_IMAGE" --image-config "Command=$handler" \
      --role "$ROLE_ARN" --timeout "$timeout" --memory-size "$memory" \
      --environment "file://$WORK/environment-image.json" >/dev/null
    where="image $PIPELINE_IMAGE"
  else
    awslocal lambda create-function --function-name "$name" --runtime python3.12 --handler "$handler" \
      --role "$ROLE_ARN" --timeout "$timeout" --memory-size "$memory" \
      --code "S3Bucket=$ARTIFACTS,S3Key=function.zip" \
      --environment "file://$WORK/environment.json" >/dev/null
    where="zip"
  fi
  awslocal lambda wait function-active-v2 --function-name "$name"
  echo "  $name ($handler, $where)"
done

function_arn() { awslocal lambda get-function --function-name "$($RENDER name "$1")" --query Configuration.FunctionArn --output text; }

echo "emotionfy: state machine (chalicelib/pipeline/state_machine.asl.json)"
$RENDER asl > "$WORK/definition.json"
awslocal stepfunctions create-state-machine --name "$PREFIX-analysis" --role-arn "$ROLE_ARN" \
  --definition "file://$WORK/definition.json" >/dev/null

echo "emotionfy: bucket notifications (uploads/ -> on_upload, content/ -> on_content_upload)"
awslocal s3api put-bucket-notification-configuration --bucket "$UPLOADS" \
  --notification-configuration "$($RENDER notification)"

echo "emotionfy: schedules (EventBridge -> watchdog, retention)"
$RENDER schedules | while read -r key expression; do
  name=$($RENDER name "$key")
  RULE_ARN=$(awslocal events put-rule --name "$name" --schedule-expression "$expression" \
    --query RuleArn --output text)
  awslocal lambda add-permission --function-name "$name" --statement-id "AllowSchedule" \
    --action lambda:InvokeFunction --principal events.amazonaws.com --source-arn "$RULE_ARN" >/dev/null
  awslocal events put-targets --rule "$name" --targets "Id=$key,Arn=$(function_arn "$key")" >/dev/null
  echo "  $name ($expression)"
done

echo "emotionfy: REST API"
$RENDER openapi "$(function_arn api)" "$(function_arn authorizer)" > "$WORK/openapi.json"
API_ID=$(awslocal apigateway import-rest-api --body "fileb://$WORK/openapi.json" --query id --output text)
awslocal apigateway create-deployment --rest-api-id "$API_ID" --stage-name api >/dev/null
API_URL="http://$API_ID.execute-api.localhost.localstack.cloud:4566/api"
echo "{\"apiUrl\": \"$API_URL\"}" > "$WORK/config.json"
awslocal s3 cp "$WORK/config.json" "s3://$ARTIFACTS/config.json" >/dev/null

echo "emotionfy: ready. API $API_URL (GET $API_URL/health); web app config: s3://$ARTIFACTS/config.json"

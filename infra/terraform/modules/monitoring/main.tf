resource "aws_sns_topic" "alarms" {
  name              = "${var.name_prefix}-alarms"
  kms_master_key_id = var.kms_key_arn
}

resource "aws_sns_topic_subscription" "email" {
  count     = var.alarm_email == null ? 0 : 1
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

locals {
  actions = [aws_sns_topic.alarms.arn]

  state_machine_alarms = {
    ExecutionsFailed   = "An analysis execution failed outside MarkFailed (or MarkFailed itself failed)."
    ExecutionThrottled = "Step Functions throttled state transitions of the analysis."
    ExecutionsTimedOut = "An analysis execution timed out."
  }

  function_alarms = merge(
    { for key, name in var.function_names : "${key}-errors" => { function = name, metric = "Errors" } },
    { for key, name in var.function_names : "${key}-throttles" => { function = name, metric = "Throttles" } },
  )
}

resource "aws_cloudwatch_metric_alarm" "state_machine" {
  for_each            = local.state_machine_alarms
  alarm_name          = "${var.name_prefix}-states-${each.key}"
  alarm_description   = each.value
  namespace           = "AWS/States"
  metric_name         = each.key
  dimensions          = { StateMachineArn = var.state_machine_arn }
  statistic           = "Sum"
  period              = var.period_seconds
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
}

resource "aws_cloudwatch_metric_alarm" "function" {
  for_each            = local.function_alarms
  alarm_name          = "${var.name_prefix}-${each.key}"
  alarm_description   = "${each.value.metric} of ${each.value.function}"
  namespace           = "AWS/Lambda"
  metric_name         = each.value.metric
  dimensions          = { FunctionName = each.value.function }
  statistic           = "Sum"
  period              = var.period_seconds
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
}

# Powertools Metrics (chalicelib/observability.py): namespace Emotionfy, dimension service=emotionfy.
resource "aws_cloudwatch_metric_alarm" "videos_failed" {
  alarm_name          = "${var.name_prefix}-videos-failed"
  alarm_description   = "Videos ended in MarkFailed (each has a reason on its record)."
  namespace           = "Emotionfy"
  metric_name         = "VideosFailed"
  dimensions          = { service = "emotionfy" }
  statistic           = "Sum"
  period              = var.period_seconds
  evaluation_periods  = 1
  threshold           = var.failed_videos_threshold
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
}

resource "aws_cloudwatch_metric_alarm" "on_upload_failures" {
  alarm_name          = "${var.name_prefix}-on-upload-failures"
  alarm_description   = "S3 upload events on_upload gave up on: those videos stay pending_upload."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = var.on_upload_failure_queue_name }
  statistic           = "Maximum"
  period              = var.period_seconds
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
}

resource "aws_cloudwatch_metric_alarm" "on_content_upload_failures" {
  alarm_name          = "${var.name_prefix}-on-content-upload-failures"
  alarm_description   = "S3 content events on_content_upload gave up on: a study's content not marked uploaded (views HEAD it), or a file whose study is gone left in content/ (redrive the queue)."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = var.on_content_upload_failure_queue_name }
  statistic           = "Maximum"
  period              = var.period_seconds
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
}

resource "aws_cloudwatch_metric_alarm" "api_5xx" {
  alarm_name          = "${var.name_prefix}-api-5xx"
  alarm_description   = "The API answered 5XX (503 when MongoDB or Redis is unreachable)."
  namespace           = "AWS/ApiGateway"
  metric_name         = "5XXError"
  dimensions          = { ApiName = var.api_name, Stage = var.api_stage }
  statistic           = "Sum"
  period              = var.period_seconds
  evaluation_periods  = 1
  threshold           = 5
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.actions
  ok_actions          = local.actions
}

locals {
  # ASL placeholder -> task function ARN, as chalicelib/pipeline/definition.py's FUNCTIONS maps them (a test
  # keeps the two equal). The same map renders the definition and grants the invoke permission.
  tasks = {
    probe_function_arn           = var.function_arns["pipeline_probe"]
    analyze_segment_function_arn = var.function_arns["pipeline_analyze_segment"]
    merge_function_arn           = var.function_arns["pipeline_merge"]
    mark_failed_function_arn     = var.function_arns["pipeline_mark_failed"]
  }
  task_arns = values(local.tasks)
}

resource "aws_cloudwatch_log_group" "this" {
  # Step Functions requires the /aws/vendedlogs/ prefix to avoid the log resource-policy size limit.
  name              = "/aws/vendedlogs/states/${var.name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["states.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = "${var.name}-states"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

resource "aws_iam_role_policy" "this" {
  #checkov:skip=CKV_AWS_290: CloudWatch Logs delivery and X-Ray actions have no resource-level permissions
  #checkov:skip=CKV_AWS_355: same: those actions only accept "*" as resource
  name = "state-machine"
  role = aws_iam_role.this.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "InvokeTaskFunctions"
        Effect   = "Allow"
        Action   = ["lambda:InvokeFunction"]
        Resource = concat(local.task_arns, [for arn in local.task_arns : "${arn}:*"])
      },
      {
        Sid    = "DeliverExecutionLogs"
        Effect = "Allow"
        Action = [
          "logs:CreateLogDelivery",
          "logs:GetLogDelivery",
          "logs:UpdateLogDelivery",
          "logs:DeleteLogDelivery",
          "logs:ListLogDeliveries",
          "logs:PutResourcePolicy",
          "logs:DescribeResourcePolicies",
          "logs:DescribeLogGroups",
        ]
        Resource = ["*"]
      },
      {
        Sid      = "Tracing"
        Effect   = "Allow"
        Action   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"]
        Resource = ["*"]
      },
    ]
  })
}

resource "aws_sfn_state_machine" "this" {
  name       = var.name
  type       = "STANDARD"
  role_arn   = aws_iam_role.this.arn
  definition = templatefile(var.asl_file, local.tasks)

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.this.arn}:*"
    include_execution_data = true
    level                  = "ERROR"
  }

  tracing_configuration {
    enabled = true
  }

  depends_on = [aws_iam_role_policy.this]
}

data "aws_caller_identity" "current" {}

locals {
  # The key layout of chalicelib/uploads.py: uploads/{user}/{video}/{file} and segments/{video}/NNNN.json.
  upload_prefix   = "uploads/"
  segments_prefix = "segments/"
}

module "access_logs" {
  #checkov:skip=CKV_AWS_145: S3 server access logging only delivers to SSE-S3 buckets
  #checkov:skip=CKV_AWS_18: this is the access-log target; logging it to itself would loop
  source                  = "../bucket"
  name                    = "${var.name_prefix}-access-logs-${data.aws_caller_identity.current.account_id}"
  kms_key_arn             = null
  access_logging          = false
  versioning              = false
  noncurrent_version_days = 1
  force_destroy           = var.force_destroy
  expirations             = [{ id = "expire-logs", prefix = "", days = var.access_log_days }]
  policy_statements = [{
    Sid       = "S3ServerAccessLogsDelivery"
    Effect    = "Allow"
    Principal = { Service = "logging.s3.amazonaws.com" }
    Action    = "s3:PutObject"
    Resource  = "arn:aws:s3:::${var.name_prefix}-access-logs-${data.aws_caller_identity.current.account_id}/s3/*"
    Condition = { StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.current.account_id } }
  }]
}

module "uploads" {
  source                  = "../bucket"
  name                    = "${var.name_prefix}-uploads-${data.aws_caller_identity.current.account_id}"
  kms_key_arn             = var.kms_key_arn
  versioning              = var.versioning
  noncurrent_version_days = var.noncurrent_version_days
  access_log_bucket       = module.access_logs.id
  force_destroy           = var.force_destroy
  expirations = concat(
    [{ id = "expire-segments", prefix = local.segments_prefix, days = var.segments_expiration_days }],
    var.uploads_expiration_days == null ? [] : [
      { id = "expire-uploads", prefix = local.upload_prefix, days = var.uploads_expiration_days }
    ],
  )
  # Presigned POST (form) and PUT from the web app, presigned GET for playback.
  cors_rules = [{
    allowed_origins = var.site_origins
    allowed_methods = ["GET", "POST", "PUT"]
    allowed_headers = ["*"]
    expose_headers  = ["ETag"]
    max_age_seconds = 3000
  }]
}

resource "aws_lambda_permission" "s3_invokes_on_upload" {
  statement_id   = "AllowUploadsBucket"
  action         = "lambda:InvokeFunction"
  function_name  = var.on_upload_function_name
  principal      = "s3.amazonaws.com"
  source_arn     = module.uploads.arn
  source_account = data.aws_caller_identity.current.account_id
}

resource "aws_s3_bucket_notification" "uploads" {
  bucket = module.uploads.id

  lambda_function {
    lambda_function_arn = var.on_upload_function_arn
    events              = ["s3:ObjectCreated:*"]
    filter_prefix       = local.upload_prefix
  }

  depends_on = [aws_lambda_permission.s3_invokes_on_upload]
}

data "aws_caller_identity" "current" {}

locals {
  # The key layout of chalicelib/uploads.py: uploads/{user}/{video}/{file} and segments/{video}/NNNN.json.
  upload_prefix   = "uploads/"
  segments_prefix = "segments/"
  # Account exports (chalicelib/storage/bucket.py): the retention sweep deletes them once their link has
  # expired; this rule a day later, should it not run.
  exports_prefix = "exports/"
  # Studies' content (chalicelib/studies: content/{owner}/{study}/{file}), the video an audience watches:
  # kept while its study exists, so no lifecycle rule may expire it (the bucket module refuses one that
  # would), and no retention tag. Its notification goes to on_content_upload, never to on_upload: it is
  # watched, not analysed; the event marks the study's content uploaded, or removes a file whose study is
  # gone. Deleting the study or the account deletes every version of it; replaced versions go with the
  # housekeeping rule.
  content_prefix = "content/"
  # The retention backstop (chalicelib/privacy/retention.py, tests/test_infra.py checks both): a source
  # video is tagged with the number of days from its creation to its planned deletion, rounded up to one of
  # these; one rule per value expires it then. The hourly sweep deletes it first unless it is not running.
  retention_tag           = "emotionfy-retention-days"
  retention_backstop_days = [1, 2, 4, 8, 15, 31, 61, 91, 181, 366, 731, 1096, 1826, 3651, 3700]
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
    [{ id = "expire-exports", prefix = local.exports_prefix, days = 1 }],
    var.uploads_expiration_days == null ? [] : [
      { id = "expire-uploads", prefix = local.upload_prefix, days = var.uploads_expiration_days }
    ],
  )
  kept_prefixes = [local.content_prefix]
  tagged_expirations = [
    for days in local.retention_backstop_days : {
      id        = "retention-backstop-${days}"
      prefix    = local.upload_prefix
      tag_key   = local.retention_tag
      tag_value = tostring(days)
      days      = days
    }
  ]
  # Presigned POST (form) and PUT from the web app (uploads/ and a study's content/), presigned GET for
  # playback: a <video> fetches by byte ranges (any request header is allowed, Range included), and a
  # player reading the response needs Content-Range and Accept-Ranges exposed.
  cors_rules = [{
    allowed_origins = var.site_origins
    allowed_methods = ["GET", "POST", "PUT"]
    allowed_headers = ["*"]
    expose_headers  = ["ETag", "Content-Length", "Content-Range", "Accept-Ranges"]
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

resource "aws_lambda_permission" "s3_invokes_on_content_upload" {
  statement_id   = "AllowUploadsBucket"
  action         = "lambda:InvokeFunction"
  function_name  = var.on_content_upload_function_name
  principal      = "s3.amazonaws.com"
  source_arn     = module.uploads.arn
  source_account = data.aws_caller_identity.current.account_id
}

# One notification configuration per bucket: uploads/ (analysed) and content/ (recorded or removed), two
# prefixes that do not overlap (S3 refuses overlapping filters for the same event type).
resource "aws_s3_bucket_notification" "uploads" {
  bucket = module.uploads.id

  lambda_function {
    lambda_function_arn = var.on_upload_function_arn
    events              = ["s3:ObjectCreated:*"]
    filter_prefix       = local.upload_prefix
  }

  lambda_function {
    lambda_function_arn = var.on_content_upload_function_arn
    events              = ["s3:ObjectCreated:*"]
    filter_prefix       = local.content_prefix
  }

  depends_on = [
    aws_lambda_permission.s3_invokes_on_upload,
    aws_lambda_permission.s3_invokes_on_content_upload,
  ]
}

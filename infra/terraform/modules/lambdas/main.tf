data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  handlers  = jsondecode(file(var.handlers_file))
  account   = data.aws_caller_identity.current.account_id
  region    = data.aws_region.current.name
  partition = data.aws_partition.current.partition

  function_names = { for key, _ in local.handlers : key => "${var.name_prefix}-${replace(key, "_", "-")}" }
  # The state machine's tasks (pipeline_*) import the engine (NumPy, OpenCV, PyAV, onnxruntime, the
  # models: 288.7 MB, over a zip function's 250 MB) and run from the container image; the API, the
  # authorizer, on_upload, on_content_upload, the watchdog and the retention sweep run from the zip. tests/test_infra.py
  # checks this prefix against the ASL.
  image_functions = toset([for key, _ in local.handlers : key if startswith(key, "pipeline_")])

  state_machine_arn = "arn:${local.partition}:states:${local.region}:${local.account}:stateMachine:${var.state_machine_name}"
  executions_arn    = "arn:${local.partition}:states:${local.region}:${local.account}:execution:${var.state_machine_name}:*"

  s = var.app_settings
  # Every variable chalicelib/settings.py reads (tests/test_infra.py checks this list against it). Secrets
  # come by parameter name; AWS_REGION is Lambda's own; AWS_ENDPOINT_URL stays unset so boto3 uses AWS;
  # EMOTIONFY_WATCHDOG_INTERVAL_SECONDS and EMOTIONFY_RETENTION_INTERVAL_SECONDS are the local stack's (here
  # EventBridge runs the watchdog and the retention sweep).
  environment = {
    EMOTIONFY_UPLOADS_BUCKET                 = var.uploads_bucket
    EMOTIONFY_STATE_MACHINE_ARN              = local.state_machine_arn
    MONGODB_URI_PARAM                        = var.mongodb_uri_parameter_name
    MONGODB_DATABASE                         = local.s.mongodb_database
    MONGODB_TIMEOUT_MS                       = tostring(local.s.mongodb_timeout_ms)
    REDIS_URL                                = var.redis_url
    REDIS_TIMEOUT_SECONDS                    = tostring(local.s.redis_timeout_seconds)
    EMOTIONFY_JWT_SECRET_PARAM               = var.jwt_secret_parameter_name
    EMOTIONFY_ACCESS_TOKEN_SECONDS           = tostring(local.s.access_token_seconds)
    EMOTIONFY_REFRESH_TOKEN_SECONDS          = tostring(local.s.refresh_token_seconds)
    EMOTIONFY_LOGIN_FAILURES_EMAIL           = tostring(local.s.login_failures_email)
    EMOTIONFY_LOGIN_FAILURES_IP              = tostring(local.s.login_failures_ip)
    EMOTIONFY_LOGIN_FAILURES_ACCOUNT         = tostring(local.s.login_failures_account)
    EMOTIONFY_LOGIN_WINDOW_SECONDS           = tostring(local.s.login_window_seconds)
    EMOTIONFY_REGISTRATIONS_PER_IP           = tostring(local.s.registrations_per_ip)
    EMOTIONFY_REGISTRATION_WINDOW_SECONDS    = tostring(local.s.registration_window_seconds)
    EMOTIONFY_MAX_UPLOAD_BYTES               = tostring(local.s.max_upload_bytes)
    EMOTIONFY_UPLOAD_URL_SECONDS             = tostring(local.s.upload_url_seconds)
    EMOTIONFY_MEDIA_URL_SECONDS              = tostring(local.s.media_url_seconds)
    EMOTIONFY_STATS_CACHE_SECONDS            = tostring(local.s.stats_cache_seconds)
    EMOTIONFY_CORS_ORIGIN                    = var.cors_origin
    EMOTIONFY_SITE_URL                       = var.cors_origin # invite links: {site}/watch/{token}
    EMOTIONFY_QUOTA_STORAGE_BYTES            = tostring(local.s.quota_storage_bytes)
    EMOTIONFY_QUOTA_VIDEOS_PER_DAY           = tostring(local.s.quota_videos_per_day)
    EMOTIONFY_QUOTA_ANALYSIS_MINUTES_PER_DAY = tostring(local.s.quota_analysis_minutes_per_day)
    EMOTIONFY_PENDING_UPLOAD_EXPIRY_SECONDS  = tostring(local.s.pending_upload_expiry_seconds)
    EMOTIONFY_WATCHDOG_STALE_SECONDS         = tostring(local.s.watchdog_stale_seconds)
    EMOTIONFY_AUTOMATIC_RETRIES              = tostring(local.s.automatic_retries)
    EMOTIONFY_MAP_MAX_CONCURRENCY            = tostring(local.s.map_max_concurrency)
    EMOTIONFY_REKOGNITION_SAMPLE_FPS         = tostring(local.s.rekognition_sample_fps)
    EMOTIONFY_MODEL_DIR                      = local.s.model_dir
    EMOTIONFY_SAMPLE_FPS                     = tostring(local.s.sample_fps)
    EMOTIONFY_SEGMENT_SECONDS                = tostring(local.s.segment_seconds)
    EMOTIONFY_MAX_SEGMENTS                   = tostring(local.s.max_segments)
    EMOTIONFY_CLASSIFIER                     = local.s.classifier
    EMOTIONFY_DETECTOR                       = local.s.detector
    EMOTIONFY_LANDMARKS                      = tostring(local.s.landmarks)
    EMOTIONFY_MAX_FRAME_PIXELS               = tostring(local.s.max_frame_pixels)
    EMOTIONFY_MAX_VIDEO_SECONDS              = tostring(local.s.max_video_seconds)
    EMOTIONFY_CONSENT_VERSION                = local.s.consent_version
    EMOTIONFY_DEFAULT_RETENTION_DAYS         = tostring(local.s.default_retention_days)
    EMOTIONFY_EXPORT_URL_SECONDS             = tostring(local.s.export_url_seconds)
    EMOTIONFY_EXPORT_MAX_VIDEO_BYTES         = tostring(local.s.export_max_video_bytes)
    POWERTOOLS_SERVICE_NAME                  = "emotionfy"
    POWERTOOLS_METRICS_NAMESPACE             = "Emotionfy"
    POWERTOOLS_LOG_LEVEL                     = var.log_level
  }

  uploads_objects  = "${var.uploads_bucket_arn}/uploads/*"
  segments_objects = "${var.uploads_bucket_arn}/segments/*"
  exports_objects  = "${var.uploads_bucket_arn}/exports/*"
  # A study's content (the video its audience watches): content/{owner}/{study}/{file}. The API function
  # writes, reads and purges it; on_content_upload may only purge a file whose study is gone.
  content_objects = "${var.uploads_bucket_arn}/content/*"

  read_jwt_key = {
    Sid      = "ReadJwtKey"
    Effect   = "Allow"
    Action   = ["ssm:GetParameter"]
    Resource = [var.jwt_secret_parameter_arn]
  }
  read_mongodb_uri = {
    Sid      = "ReadMongoDbUri"
    Effect   = "Allow"
    Action   = ["ssm:GetParameter"]
    Resource = [var.mongodb_uri_parameter_arn]
  }
  start_analysis = {
    Sid      = "StartAnalysis"
    Effect   = "Allow"
    Action   = ["states:StartExecution"]
    Resource = [local.state_machine_arn]
  }
  read_uploads = {
    Sid      = "ReadUploads"
    Effect   = "Allow"
    Action   = ["s3:GetObject"]
    Resource = [local.uploads_objects]
  }
  describe_analyses = {
    Sid      = "DescribeAnalyses"
    Effect   = "Allow"
    Action   = ["states:DescribeExecution"]
    Resource = [local.executions_arn]
  }
  # SSE-KMS objects: writing needs a data key, reading needs Decrypt (also for SSM and the environment).
  use_key = {
    Sid      = "UseProjectKey"
    Effect   = "Allow"
    Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
    Resource = [var.kms_key_arn]
  }
  decrypt_only = {
    Sid      = "DecryptWithProjectKey"
    Effect   = "Allow"
    Action   = ["kms:Decrypt"]
    Resource = [var.kms_key_arn]
  }
  # Retention (chalicelib/privacy/retention.py): a source goes for good (every version: the bucket is
  # versioned), and its tag tells S3's lifecycle rules when to delete it should the sweep not run.
  retire_sources = {
    Sid      = "RetireSourceVideos"
    Effect   = "Allow"
    Action   = ["s3:DeleteObjectVersion", "s3:PutObjectTagging", "s3:DeleteObjectTagging"]
    Resource = [local.uploads_objects]
  }
  # Every purge (chalicelib/storage/bucket.py) lists the versions under the prefix or key it deletes: each
  # role may list only under the prefixes it purges (a listing without a prefix is refused).
  list_source_versions = {
    Sid       = "ListSourceVersions"
    Effect    = "Allow"
    Action    = ["s3:ListBucketVersions"]
    Resource  = [var.uploads_bucket_arn]
    Condition = { StringLike = { "s3:prefix" = ["uploads/*"] } }
  }

  # What each function does beyond logging, tracing and its VPC interfaces.
  statements = {
    api = [
      local.read_jwt_key,
      local.read_mongodb_uri,
      local.use_key,
      local.start_analysis,
      {
        # Deleting a video stops its analysis; retrying one first asks whether it is still running
        # (chalicelib/video_library.py: _execution_running).
        Sid      = "StopAndDescribeAnalyses"
        Effect   = "Allow"
        Action   = ["states:StopExecution", "states:DescribeExecution"]
        Resource = [local.executions_arn]
      },
      {
        # Presigned POST/PUT/GET are signed with this role: it must itself be allowed what they allow.
        Sid      = "PresignAndDeleteUploads"
        Effect   = "Allow"
        Action   = ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"]
        Resource = [local.uploads_objects]
      },
      {
        # Deleting a video; erasing an account removes every version of its segment results.
        Sid      = "DeleteSegmentResults"
        Effect   = "Allow"
        Action   = ["s3:DeleteObject", "s3:DeleteObjectVersion"]
        Resource = [local.segments_objects]
      },
      # A new retention setting re-tags and deletes sources; erasing an account purges its uploads.
      local.retire_sources,
      {
        # Erasing an account purges its uploads, segment results, exports and studies' content.
        Sid      = "ListObjectVersionsUnderItsPrefixes"
        Effect   = "Allow"
        Action   = ["s3:ListBucketVersions"]
        Resource = [var.uploads_bucket_arn]
        Condition = {
          StringLike = { "s3:prefix" = ["uploads/*", "segments/*", "exports/*", "content/*"] }
        }
      },
      {
        # Studies (chalicelib/studies/content.py): the presigned POST/PUT of the content and its presigned
        # GET (signed with this role), HeadObject (content.uploaded), reading it into an account export,
        # and purging every version of it with the study or the account (DeleteObjects by version id).
        Sid      = "PresignReadAndPurgeStudyContent"
        Effect   = "Allow"
        Action   = ["s3:PutObject", "s3:GetObject", "s3:DeleteObjectVersion"]
        Resource = [local.content_objects]
      },
      {
        # GET /account/export writes the zip and presigns its download; erasing removes the account's.
        Sid      = "WriteReadAndDeleteExports"
        Effect   = "Allow"
        Action   = ["s3:PutObject", "s3:GetObject", "s3:DeleteObjectVersion"]
        Resource = [local.exports_objects]
      },
      {
        # HeadBucket (/health) and listing segments/{video}/ before deleting them.
        Sid      = "HeadBucketAndListSegments"
        Effect   = "Allow"
        Action   = ["s3:ListBucket"]
        Resource = [var.uploads_bucket_arn]
      },
    ]
    authorizer = [local.read_jwt_key, local.decrypt_only]
    on_upload = [
      local.read_mongodb_uri,
      local.decrypt_only,
      local.start_analysis,
      {
        # An upload for a video deleted (or an account erased) after its URL was handed out is removed,
        # every version of it (chalicelib/pipeline/start.py).
        Sid      = "RemoveOrphanedUploads"
        Effect   = "Allow"
        Action   = ["s3:DeleteObjectVersion"]
        Resource = [local.uploads_objects]
      },
      local.list_source_versions,
      {
        Sid      = "ReportFailedEvents"
        Effect   = "Allow"
        Action   = ["sqs:SendMessage"]
        Resource = [aws_sqs_queue.on_upload_failures.arn]
      },
      {
        Sid      = "UseKeyForFailureQueue"
        Effect   = "Allow"
        Action   = ["kms:GenerateDataKey"]
        Resource = [var.kms_key_arn]
      },
    ]
    # A study's content arrived (chalicelib/studies/content_events.py): recorded on its study (MongoDB; the
    # size comes with the event, so no GetObject/HeadObject), or, when the study is gone (deleted, or its
    # account erased, while its upload URL was still valid), removed with every version. Starts nothing.
    on_content_upload = [
      local.read_mongodb_uri,
      local.decrypt_only,
      {
        Sid      = "RemoveOrphanedContent"
        Effect   = "Allow"
        Action   = ["s3:DeleteObjectVersion"]
        Resource = [local.content_objects]
      },
      {
        Sid       = "ListContentVersions"
        Effect    = "Allow"
        Action    = ["s3:ListBucketVersions"]
        Resource  = [var.uploads_bucket_arn]
        Condition = { StringLike = { "s3:prefix" = ["content/*"] } }
      },
      {
        Sid      = "ReportFailedContentEvents"
        Effect   = "Allow"
        Action   = ["sqs:SendMessage"]
        Resource = [aws_sqs_queue.on_content_upload_failures.arn]
      },
      {
        Sid      = "UseKeyForContentFailureQueue"
        Effect   = "Allow"
        Action   = ["kms:GenerateDataKey"]
        Resource = [var.kms_key_arn]
      },
    ]
    pipeline_probe = [local.read_mongodb_uri, local.decrypt_only, local.read_uploads]
    pipeline_analyze_segment = [
      local.read_mongodb_uri,
      local.use_key,
      local.read_uploads,
      {
        Sid      = "WriteSegmentResults"
        Effect   = "Allow"
        Action   = ["s3:PutObject"]
        Resource = [local.segments_objects]
      },
      {
        Sid      = "RekognitionBackend"
        Effect   = "Allow"
        Action   = ["rekognition:DetectFaces"]
        Resource = ["*"]
      },
    ]
    pipeline_merge = [
      local.read_mongodb_uri,
      local.decrypt_only,
      {
        Sid      = "ReadSegmentResults"
        Effect   = "Allow"
        Action   = ["s3:GetObject"]
        Resource = [local.segments_objects]
      },
      # The retention is planned when the analysis is stored: the source tagged, or deleted at 0 days.
      local.retire_sources,
      local.list_source_versions,
    ]
    pipeline_mark_failed = [local.read_mongodb_uri, local.decrypt_only]
    # Every 5 minutes: restarts analyses that never started or whose execution ended without a result
    # (asks Step Functions first), and removes uploads and segment results nothing refers to any more.
    watchdog = [
      local.read_mongodb_uri,
      local.decrypt_only,
      local.start_analysis,
      local.describe_analyses,
      local.read_uploads, # HeadObject is authorised by s3:GetObject
      {
        Sid      = "ListUploadsAndSegments"
        Effect   = "Allow"
        Action   = ["s3:ListBucket"]
        Resource = [var.uploads_bucket_arn]
      },
      {
        Sid      = "DeleteAbandonedObjects"
        Effect   = "Allow"
        Action   = ["s3:DeleteObject"]
        Resource = [local.uploads_objects, local.segments_objects]
      },
    ]
    # Every hour: deletes the sources due under their owner's retention, plans finished videos that have no
    # plan, re-tags sources whose plan changed, deletes account exports whose link has expired.
    retention = [
      local.read_mongodb_uri,
      local.decrypt_only,
      local.retire_sources,
      {
        Sid       = "ListSourceAndExportVersions"
        Effect    = "Allow"
        Action    = ["s3:ListBucketVersions"]
        Resource  = [var.uploads_bucket_arn]
        Condition = { StringLike = { "s3:prefix" = ["uploads/*", "exports/*"] } }
      },
      {
        Sid      = "ListExports"
        Effect   = "Allow"
        Action   = ["s3:ListBucket"]
        Resource = [var.uploads_bucket_arn]
      },
      {
        Sid      = "DeleteExpiredExports"
        Effect   = "Allow"
        Action   = ["s3:DeleteObjectVersion"]
        Resource = [local.exports_objects]
      },
    ]
  }
}

# --- code: the zip functions' package in a private artefacts bucket; the pipeline image is in ECR ---

module "artifacts" {
  source            = "../bucket"
  name              = "${var.name_prefix}-artifacts-${local.account}"
  kms_key_arn       = var.kms_key_arn
  versioning        = true
  access_log_bucket = var.access_log_bucket
}

resource "aws_s3_object" "function" {
  bucket      = module.artifacts.id
  key         = "functions/${filesha256(var.function_zip)}.zip"
  source      = var.function_zip
  kms_key_id  = var.kms_key_arn
  source_hash = filemd5(var.function_zip)
}

# --- one role per function ---

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  for_each           = local.handlers
  name               = local.function_names[each.key]
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

resource "aws_iam_role_policy" "this" {
  #checkov:skip=CKV_AWS_290: X-Ray PutTrace*, VPC network-interface actions and rekognition:DetectFaces have no resource-level permissions
  #checkov:skip=CKV_AWS_355: same: those actions only accept "*" as resource
  for_each = local.handlers
  name     = "function"
  role     = aws_iam_role.this[each.key].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [
        {
          Sid      = "WriteOwnLogs"
          Effect   = "Allow"
          Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
          Resource = ["${aws_cloudwatch_log_group.this[each.key].arn}:*"]
        },
        {
          Sid      = "Tracing"
          Effect   = "Allow"
          Action   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
          Resource = ["*"]
        },
        {
          Sid    = "VpcNetworkInterfaces"
          Effect = "Allow"
          Action = [
            "ec2:CreateNetworkInterface",
            "ec2:DescribeNetworkInterfaces",
            "ec2:DescribeSubnets",
            "ec2:DeleteNetworkInterface",
            "ec2:AssignPrivateIpAddresses",
            "ec2:UnassignPrivateIpAddresses",
          ]
          Resource = ["*"]
        },
      ],
      local.statements[each.key],
    )
  })
}

# --- the functions ---

resource "aws_cloudwatch_log_group" "this" {
  for_each          = local.handlers
  name              = "/aws/lambda/${local.function_names[each.key]}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_116: only on_upload, on_content_upload, watchdog and retention are invoked asynchronously: the S3 handlers' failures go to on-failure destinations, a failed sweep is redone by the next one (below)
  #checkov:skip=CKV_AWS_272: the zip is built by `chalice package` in CI and the image by docker build; no AWS Signer profile is set up
  for_each      = local.handlers
  function_name = local.function_names[each.key]
  description   = "Emotionfy ${each.key} (${each.value})"
  role          = aws_iam_role.this[each.key].arn
  architectures = ["x86_64"]

  # The pipeline functions: one image, each function's handler as the image's command. The others: the
  # zip, with the Python runtime and the handler. Neither has a layer.
  package_type = contains(local.image_functions, each.key) ? "Image" : "Zip"
  image_uri    = contains(local.image_functions, each.key) ? var.pipeline_image_uri : null
  dynamic "image_config" {
    for_each = contains(local.image_functions, each.key) ? [each.value] : []
    content {
      command = [image_config.value]
    }
  }
  handler          = contains(local.image_functions, each.key) ? null : each.value
  runtime          = contains(local.image_functions, each.key) ? null : var.runtime
  s3_bucket        = contains(local.image_functions, each.key) ? null : module.artifacts.id
  s3_key           = contains(local.image_functions, each.key) ? null : aws_s3_object.function.key
  source_code_hash = contains(local.image_functions, each.key) ? null : filebase64sha256(var.function_zip)

  memory_size                    = lookup(var.memory_mb, each.key, 1024)
  timeout                        = lookup(var.timeout_seconds, each.key, 30)
  reserved_concurrent_executions = coalesce(lookup(var.reserved_concurrency, each.key, -1), -1)
  kms_key_arn                    = var.kms_key_arn

  environment {
    variables = local.environment
  }

  vpc_config {
    subnet_ids         = var.subnet_ids
    security_group_ids = var.security_group_ids
  }

  tracing_config {
    mode = "Active"
  }

  lifecycle {
    precondition {
      condition     = !contains(local.image_functions, each.key) || var.pipeline_image_uri != null
      error_message = "${each.key} runs from the pipeline image: set pipeline_image_uri (README: Deploying)."
    }
  }

  depends_on = [aws_cloudwatch_log_group.this, aws_iam_role_policy.this]
}

# S3 invokes on_upload asynchronously: after Lambda's retries, the event lands in a queue instead of
# vanishing, and an alarm (modules/monitoring) says so.
resource "aws_sqs_queue" "on_upload_failures" {
  name                      = "${var.name_prefix}-on-upload-failures"
  kms_master_key_id         = var.kms_key_arn
  message_retention_seconds = 1209600
}

resource "aws_lambda_function_event_invoke_config" "on_upload" {
  function_name          = aws_lambda_function.this["on_upload"].function_name
  maximum_retry_attempts = 2
  destination_config {
    on_failure {
      destination = aws_sqs_queue.on_upload_failures.arn
    }
  }
}

# The same for on_content_upload: an event it gave up on (MongoDB unreachable through its retries) may be
# a file whose study is gone, which nothing else would remove; the queue keeps it and an alarm says so.
resource "aws_sqs_queue" "on_content_upload_failures" {
  name                      = "${var.name_prefix}-on-content-upload-failures"
  kms_master_key_id         = var.kms_key_arn
  message_retention_seconds = 1209600
}

resource "aws_lambda_function_event_invoke_config" "on_content_upload" {
  function_name          = aws_lambda_function.this["on_content_upload"].function_name
  maximum_retry_attempts = 2
  destination_config {
    on_failure {
      destination = aws_sqs_queue.on_content_upload_failures.arn
    }
  }
}

# The watchdog (app.py: @app.schedule(Rate(5, unit=Rate.MINUTES), name="watchdog")), every 5 minutes from
# EventBridge. tests/test_infra.py checks the expression against the app's schedule.
resource "aws_cloudwatch_event_rule" "watchdog" {
  name                = "${var.name_prefix}-watchdog"
  description         = "Emotionfy watchdog: restarts stuck analyses and removes abandoned uploads"
  schedule_expression = "rate(5 minutes)"
}

resource "aws_cloudwatch_event_target" "watchdog" {
  rule      = aws_cloudwatch_event_rule.watchdog.name
  target_id = "watchdog"
  arn       = aws_lambda_function.this["watchdog"].arn
}

resource "aws_lambda_permission" "watchdog" {
  statement_id  = "AllowWatchdogSchedule"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this["watchdog"].function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.watchdog.arn
}

# A sweep is idempotent and the next one comes 5 minutes later: no retries, and no event kept longer than
# the interval (a failing sweep shows in the function's Errors alarm, modules/monitoring).
resource "aws_lambda_function_event_invoke_config" "watchdog" {
  function_name                = aws_lambda_function.this["watchdog"].function_name
  maximum_retry_attempts       = 0
  maximum_event_age_in_seconds = 240
}

# The retention sweep (app.py: @app.schedule(Rate(1, unit=Rate.HOURS), name="retention")), every hour: source
# videos are deleted when their owner's retention says (chalicelib/privacy/retention.py). Its event's time is
# the sweep's clock. S3 lifecycle rules on the sources' retention tag (modules/storage) are the backstop.
resource "aws_cloudwatch_event_rule" "retention" {
  name                = "${var.name_prefix}-retention"
  description         = "Emotionfy retention: deletes source videos and account exports past their time"
  schedule_expression = "rate(1 hour)"
}

resource "aws_cloudwatch_event_target" "retention" {
  rule      = aws_cloudwatch_event_rule.retention.name
  target_id = "retention"
  arn       = aws_lambda_function.this["retention"].arn
}

resource "aws_lambda_permission" "retention" {
  statement_id  = "AllowRetentionSchedule"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this["retention"].function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.retention.arn
}

# Idempotent like the watchdog: what one sweep leaves, the next (an hour later) does.
resource "aws_lambda_function_event_invoke_config" "retention" {
  function_name                = aws_lambda_function.this["retention"].function_name
  maximum_retry_attempts       = 0
  maximum_event_age_in_seconds = 3000
}

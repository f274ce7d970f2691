variable "name_prefix" {
  description = "Prefix of every resource name, e.g. emotionfy-dev."
  type        = string
}

variable "handlers_file" {
  description = "infra/terraform/handlers.json: function key -> handler string, the one list of functions."
  type        = string
}

variable "function_zip" {
  description = "The zip functions' package (api, authorizer, on_upload, on_content_upload, watchdog, retention: app.py, chalicelib and the light dependencies of requirements.txt), e.g. from `chalice package`."
  type        = string
}

variable "pipeline_image_uri" {
  description = "The pipeline functions' container image (layers/onnx-runtime/Dockerfile) in the registry module's repository, by tag or digest: <account>.dkr.ecr.<region>.amazonaws.com/<prefix>-pipeline:<tag>. Null only while nothing but the repository is applied."
  type        = string
  default     = null
  validation {
    condition     = var.pipeline_image_uri == null || can(regex("^[0-9]{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?/[a-z0-9._/-]+(:[A-Za-z0-9_.-]+|@sha256:[0-9a-f]{64})$", var.pipeline_image_uri))
    error_message = "pipeline_image_uri must be an ECR image URI with a tag or a sha256 digest."
  }
}

variable "runtime" {
  description = "Lambda Python runtime of the zip functions; the function package must be built for it (tests/test_layer.py measures it for 3.12; the pipeline image brings its own, python3.12). python3.11 runs on Amazon Linux 2 (glibc 2.26)."
  type        = string
  default     = "python3.12"
  validation {
    condition     = contains(["python3.11", "python3.12"], var.runtime)
    error_message = "runtime must be python3.11 or python3.12."
  }
}

variable "memory_mb" {
  description = "Memory per function key (more memory also means more CPU for the engine)."
  type        = map(number)
  default = {
    api                      = 1024
    authorizer               = 512
    on_upload                = 512
    on_content_upload        = 512
    pipeline_probe           = 1024
    pipeline_analyze_segment = 3008
    pipeline_merge           = 1536
    pipeline_mark_failed     = 512
    watchdog                 = 512
    retention                = 512
  }
}

variable "timeout_seconds" {
  description = "Timeout per function key; the API's stays under API Gateway's 29 s integration limit."
  type        = map(number)
  default = {
    api                      = 28
    authorizer               = 10
    on_upload                = 30
    on_content_upload        = 30
    pipeline_probe           = 120
    pipeline_analyze_segment = 600
    pipeline_merge           = 300
    pipeline_mark_failed     = 30
    watchdog                 = 120
    retention                = 300
  }
}

variable "reserved_concurrency" {
  description = "Reserved concurrency per function key (-1 or null: unreserved, the default for all). Reserving caps a function (e.g. segments, so a burst of uploads cannot starve the API) but needs quota: Lambda keeps 100 of the account's concurrent executions unreserved, and new accounts start at 10, so CreateFunction fails until a Service Quotas increase of \"Concurrent executions\" (to at least 100 + the sum reserved) is granted."
  type        = map(number)
  default = {
    api                      = -1
    authorizer               = -1
    on_upload                = -1
    on_content_upload        = -1
    pipeline_probe           = -1
    pipeline_analyze_segment = -1
    pipeline_merge           = -1
    pipeline_mark_failed     = -1
    watchdog                 = -1
    retention                = -1
  }
}

variable "log_retention_days" {
  description = "Days function logs are kept."
  type        = number
  default     = 365
}

variable "kms_key_arn" {
  description = "Customer-managed key: environment variables, logs, artefacts, the failure queue, SSE-KMS uploads."
  type        = string
}

variable "subnet_ids" {
  description = "Private subnets of the functions."
  type        = list(string)
}

variable "security_group_ids" {
  description = "Security groups of the functions."
  type        = list(string)
}

variable "access_log_bucket" {
  description = "Bucket receiving S3 server access logs of the artefacts bucket."
  type        = string
}

variable "uploads_bucket" {
  description = "Name of the uploads bucket."
  type        = string
}

variable "uploads_bucket_arn" {
  description = "ARN of the uploads bucket."
  type        = string
}

variable "state_machine_name" {
  description = "Name of the analysis state machine (its ARN is derived, so functions and machine need not wait for each other)."
  type        = string
}

variable "jwt_secret_parameter_name" {
  description = "SSM SecureString with the JWT key (EMOTIONFY_JWT_SECRET_PARAM)."
  type        = string
}

variable "jwt_secret_parameter_arn" {
  description = "ARN of that parameter."
  type        = string
}

variable "mongodb_uri_parameter_name" {
  description = "SSM SecureString with the Atlas connection string (MONGODB_URI_PARAM)."
  type        = string
}

variable "mongodb_uri_parameter_arn" {
  description = "ARN of that parameter."
  type        = string
}

variable "redis_url" {
  description = "rediss:// URL of ElastiCache with its AUTH token (REDIS_URL)."
  type        = string
  sensitive   = true
}

variable "cors_origin" {
  description = "The web app's origin, e.g. https://d123.cloudfront.net (EMOTIONFY_CORS_ORIGIN)."
  type        = string
}

variable "log_level" {
  description = "Powertools log level."
  type        = string
  default     = "INFO"
}

variable "app_settings" {
  description = "Limits and lifetimes read by chalicelib/settings.py (defaults are the code's)."
  type = object({
    mongodb_database               = optional(string, "emotionfy")
    mongodb_timeout_ms             = optional(number, 3000)
    redis_timeout_seconds          = optional(number, 2)
    access_token_seconds           = optional(number, 900)
    refresh_token_seconds          = optional(number, 2592000)
    login_failures_email           = optional(number, 5)
    login_failures_ip              = optional(number, 20)
    login_failures_account         = optional(number, 50)
    login_window_seconds           = optional(number, 900)
    registrations_per_ip           = optional(number, 20)
    registration_window_seconds    = optional(number, 3600)
    max_upload_bytes               = optional(number, 524288000)
    upload_url_seconds             = optional(number, 900)
    media_url_seconds              = optional(number, 300)
    stats_cache_seconds            = optional(number, 3600)
    map_max_concurrency            = optional(number, 8)
    rekognition_sample_fps         = optional(number, 1)
    model_dir                      = optional(string, "/opt/model/onnx")
    sample_fps                     = optional(number, 5)
    segment_seconds                = optional(number, 30)
    max_segments                   = optional(number, 200)
    classifier                     = optional(string, "calibrated")
    detector                       = optional(string, "blazeface")
    landmarks                      = optional(bool, true)
    max_frame_pixels               = optional(number, 9437184) # 4096 x 2304
    max_video_seconds              = optional(number, 3600)
    quota_storage_bytes            = optional(number, 10737418240) # 10 GiB
    quota_videos_per_day           = optional(number, 50)
    quota_analysis_minutes_per_day = optional(number, 180)
    pending_upload_expiry_seconds  = optional(number, 3600)
    watchdog_stale_seconds         = optional(number, 120)
    automatic_retries              = optional(number, 2)
    consent_version                = optional(string, "2026-12-01")
    default_retention_days         = optional(number, 30)
    export_url_seconds             = optional(number, 3600)
    export_max_video_bytes         = optional(number, 419430400) # 400 MiB: fits the API function's /tmp
  })
  default = {}
}

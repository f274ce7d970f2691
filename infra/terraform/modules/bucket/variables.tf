variable "name" {
  description = "Bucket name (globally unique)."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer-managed key for SSE-KMS; null for SSE-S3 (only for the access-log bucket, which S3 logging requires)."
  type        = string
  default     = null
}

variable "versioning" {
  description = "Keep object versions (noncurrent versions expire after noncurrent_version_days)."
  type        = bool
  default     = true
}

variable "noncurrent_version_days" {
  description = "Days a replaced or deleted object's previous version is kept."
  type        = number
  default     = 7
}

variable "access_logging" {
  description = "Send S3 server access logs to access_log_bucket (false only for the log bucket itself)."
  type        = bool
  default     = true
}

variable "access_log_bucket" {
  description = "Bucket receiving S3 server access logs for this bucket."
  type        = string
  default     = null
}

variable "expirations" {
  description = "Objects expiring after a number of days, by key prefix (\"\" = the whole bucket)."
  type = list(object({
    id     = string
    prefix = string
    days   = number
  }))
  default = []
}

variable "kept_prefixes" {
  description = "Key prefixes no expiration rule may reach (objects kept until the application deletes them); a rule whose prefix overlaps one fails the plan."
  type        = list(string)
  default     = []
}

variable "tagged_expirations" {
  description = "Objects under a key prefix that carry a tag with a given value expire after a number of days (one rule each)."
  type = list(object({
    id        = string
    prefix    = string
    tag_key   = string
    tag_value = string
    days      = number
  }))
  default = []
}

variable "cors_rules" {
  description = "CORS rules (browser uploads and playback straight to and from S3)."
  type = list(object({
    allowed_origins = list(string)
    allowed_methods = list(string)
    allowed_headers = list(string)
    expose_headers  = list(string)
    max_age_seconds = number
  }))
  default = []
}

variable "policy_statements" {
  description = "Extra bucket policy statements (IAM JSON objects); a TLS-only deny is always added."
  type        = any
  default     = []
}

variable "force_destroy" {
  description = "Allow terraform destroy to delete a non-empty bucket (dev only)."
  type        = bool
  default     = false
}

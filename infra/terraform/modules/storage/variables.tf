variable "name_prefix" {
  description = "Prefix of every resource name, e.g. emotionfy-dev."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer-managed key encrypting uploads and segment results."
  type        = string
}

variable "site_origins" {
  description = "Browser origins allowed to POST/PUT uploads to and GET media from the bucket (the web app)."
  type        = list(string)
}

variable "segments_expiration_days" {
  description = "Days after which segment results (segments/) expire; the merged analysis lives in MongoDB."
  type        = number
  default     = 7
}

variable "uploads_expiration_days" {
  description = "Days after which uploaded videos (uploads/) expire; null keeps them until the user deletes them."
  type        = number
  default     = null
}

variable "versioning" {
  description = "Keep previous versions of objects for a short while (see noncurrent_version_days)."
  type        = bool
  default     = true
}

variable "noncurrent_version_days" {
  description = "Days a deleted or replaced object's previous version is kept."
  type        = number
  default     = 1
}

variable "access_log_days" {
  description = "Days S3 access logs are kept."
  type        = number
  default     = 90
}

variable "on_upload_function_arn" {
  description = "ARN of the on_upload Lambda function, notified of every object created under uploads/."
  type        = string
}

variable "on_upload_function_name" {
  description = "Name of the on_upload Lambda function (for its invoke permission)."
  type        = string
}

variable "on_content_upload_function_arn" {
  description = "ARN of the on_content_upload Lambda function, notified of every object created under content/ (a study's content: recorded on its study, or removed when the study is gone; never analysed)."
  type        = string
}

variable "on_content_upload_function_name" {
  description = "Name of the on_content_upload Lambda function (for its invoke permission)."
  type        = string
}

variable "force_destroy" {
  description = "Allow terraform destroy to delete non-empty buckets (dev only)."
  type        = bool
  default     = false
}

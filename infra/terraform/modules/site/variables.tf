variable "name_prefix" {
  description = "Prefix of every resource name, e.g. emotionfy-dev."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer-managed key encrypting the site bucket (CloudFront may decrypt, see modules/kms)."
  type        = string
}

variable "access_log_bucket" {
  description = "Bucket receiving S3 server access logs of the site bucket."
  type        = string
}

variable "api_url" {
  description = "API base URL, written to /config.json as apiUrl (read by the web app at start)."
  type        = string
}

variable "limits" {
  description = "User-facing limits written to /config.json as limits (modules/lambdas output client_limits: maxUploadBytes, maxVideoMinutes, videosPerDay, storageBytes, analysisMinutesPerDay)."
  type        = map(number)
}

variable "price_class" {
  description = "CloudFront price class."
  type        = string
  default     = "PriceClass_100"
}

variable "aliases" {
  description = "Custom domain names of the site (need certificate_arn)."
  type        = list(string)
  default     = []
}

variable "certificate_arn" {
  description = "ACM certificate (us-east-1) for the aliases; null serves *.cloudfront.net with CloudFront's certificate."
  type        = string
  default     = null
}

variable "api_origin" {
  description = "The API's origin (modules/api output origin), allowed in the Content-Security-Policy's connect-src. Not derived from api_url: the API's stage depends on the site's origin (CORS), the distribution must not depend on the stage."
  type        = string
  validation {
    condition     = can(regex("^https://[^/]+$", var.api_origin))
    error_message = "api_origin is https://host, without a path."
  }
}

variable "uploads_bucket" {
  description = "Name of the uploads bucket: its presigned URLs (upload, playback) are allowed in the Content-Security-Policy."
  type        = string
}

variable "force_destroy" {
  description = "Allow terraform destroy to delete the non-empty site bucket (dev only)."
  type        = bool
  default     = false
}

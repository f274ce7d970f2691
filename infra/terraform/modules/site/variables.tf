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

variable "content_security_policy" {
  description = "Content-Security-Policy header of the site; null for none."
  type        = string
  default     = null
}

variable "force_destroy" {
  description = "Allow terraform destroy to delete the non-empty site bucket (dev only)."
  type        = bool
  default     = false
}

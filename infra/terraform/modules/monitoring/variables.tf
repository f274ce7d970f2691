variable "name_prefix" {
  description = "Prefix of every resource name, e.g. emotionfy-dev."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer-managed key encrypting the alarm topic."
  type        = string
}

variable "alarm_email" {
  description = "Address subscribed to the alarm topic (confirm the e-mail AWS sends); null for none."
  type        = string
  default     = null
}

variable "state_machine_arn" {
  description = "ARN of the analysis state machine."
  type        = string
}

variable "function_names" {
  description = "Function name per function key: each gets an Errors and a Throttles alarm."
  type        = map(string)
}

variable "on_upload_failure_queue_name" {
  description = "Queue of S3 events on_upload could not handle."
  type        = string
}

variable "on_content_upload_failure_queue_name" {
  description = "Queue of S3 events on_content_upload could not handle."
  type        = string
}

variable "api_name" {
  description = "REST API name (for the 5XX alarm)."
  type        = string
}

variable "api_stage" {
  description = "REST API stage (for the 5XX alarm)."
  type        = string
}

variable "period_seconds" {
  description = "Evaluation period of every alarm."
  type        = number
  default     = 300
}

variable "failed_videos_threshold" {
  description = "Videos failing in one period before the VideosFailed alarm fires (users see a reason; many at once is an outage)."
  type        = number
  default     = 3
}

variable "name_prefix" {
  description = "Prefix of every resource name, e.g. emotionfy-dev."
  type        = string
}

variable "routes_file" {
  description = "infra/terraform/api_routes.json: every Chalice route (path, method, whether the JWT authorizer guards it)."
  type        = string
}

variable "gateway_responses_file" {
  description = "infra/terraform/gateway_responses.json: status, headers and body template per gateway response type."
  type        = string
}

variable "api_function_name" {
  description = "Name of the API function (handler app.app)."
  type        = string
}

variable "api_invoke_arn" {
  description = "Invoke ARN of the API function."
  type        = string
}

variable "authorizer_function_name" {
  description = "Name of the authorizer function (handler app.jwt_auth)."
  type        = string
}

variable "authorizer_invoke_arn" {
  description = "Invoke ARN of the authorizer function."
  type        = string
}

variable "cors_origin" {
  description = "The web app's origin, echoed in CORS headers of preflights and gateway errors."
  type        = string
}

variable "stage_name" {
  description = "Stage name (the last part of the API URL); .chalice/config.json uses \"api\"."
  type        = string
  default     = "api"
}

variable "authorizer_ttl_seconds" {
  description = "Authorizer result cache. 0 so a signed-out token is refused at once (the denylist is the point of the authorizer)."
  type        = number
  default     = 0
}

variable "throttling_rate_limit" {
  description = "Steady-state requests per second for the stage."
  type        = number
  default     = 50
}

variable "throttling_burst_limit" {
  description = "Burst of requests for the stage."
  type        = number
  default     = 100
}

variable "kms_key_arn" {
  description = "Customer-managed key encrypting the access-log group."
  type        = string
}

variable "log_retention_days" {
  description = "Days access logs are kept."
  type        = number
  default     = 365
}

variable "manage_account_logging_role" {
  description = "Set API Gateway's account-wide CloudWatch role (one per account and region; false if something else manages it)."
  type        = bool
  default     = true
}

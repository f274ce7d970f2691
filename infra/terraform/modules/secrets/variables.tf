variable "name_prefix" {
  description = "Prefix of every resource name, e.g. emotionfy-dev."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer-managed key encrypting the SecureString parameters."
  type        = string
}

variable "jwt_key_version" {
  description = "Change (e.g. 1 -> 2) to generate a new JWT signing key; every access token then fails and users sign in again."
  type        = number
  default     = 1
}

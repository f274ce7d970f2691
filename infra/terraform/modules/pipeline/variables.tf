variable "name" {
  description = "Name of the state machine (the functions derive its ARN from it)."
  type        = string
}

variable "asl_file" {
  description = "chalicelib/pipeline/state_machine.asl.json: the one definition, used unchanged but for the function ARNs."
  type        = string
}

variable "function_arns" {
  description = "Function ARN per function key (modules/lambdas output)."
  type        = map(string)
}

variable "kms_key_arn" {
  description = "Customer-managed key encrypting the execution log group."
  type        = string
}

variable "log_retention_days" {
  description = "Days execution logs are kept."
  type        = number
  default     = 365
}

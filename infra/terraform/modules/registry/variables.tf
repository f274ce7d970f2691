variable "name_prefix" {
  description = "Prefix of every resource name, e.g. emotionfy-dev; the repository is <prefix>-pipeline."
  type        = string
}

variable "kms_key_arn" {
  description = "Customer-managed key encrypting the images at rest."
  type        = string
}

variable "keep_images" {
  description = "Tagged images kept (older ones expire); the deployed image must be among them."
  type        = number
  default     = 20
  validation {
    condition     = var.keep_images >= 2
    error_message = "keep_images must be at least 2 (the deployed image and the one before it)."
  }
}

variable "force_delete" {
  description = "Let terraform destroy delete the repository with its images (dev only)."
  type        = bool
  default     = false
}

# Every generated secret of the deployment. Values live in Terraform state: keep the state encrypted
# and access-controlled (see environments/dev/main.tf's backend).

resource "random_password" "jwt" {
  length  = 64
  special = false
  keepers = { version = var.jwt_key_version }
}

resource "aws_ssm_parameter" "jwt_secret" {
  name        = "/${var.name_prefix}/jwt-secret"
  description = "HS256 key signing Emotionfy access tokens (EMOTIONFY_JWT_SECRET_PARAM)"
  type        = "SecureString"
  key_id      = var.kms_key_arn
  value       = random_password.jwt.result
}

# ElastiCache AUTH token: alphanumeric, so it can sit in a rediss:// URL unescaped.
resource "random_password" "redis" {
  length  = 64
  special = false
}

# Atlas database user password: alphanumeric for the same reason (mongodb+srv:// URL).
resource "random_password" "mongodb" {
  length  = 40
  special = false
}

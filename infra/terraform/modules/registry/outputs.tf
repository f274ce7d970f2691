output "repository_url" {
  description = "Push the pipeline image here: <account>.dkr.ecr.<region>.amazonaws.com/<prefix>-pipeline."
  value       = aws_ecr_repository.pipeline.repository_url
}

output "repository_name" {
  description = "Name of the pipeline image repository."
  value       = aws_ecr_repository.pipeline.name
}

output "registry_id" {
  description = "Registry (account) ID, for `aws ecr get-login-password | docker login`."
  value       = aws_ecr_repository.pipeline.registry_id
}

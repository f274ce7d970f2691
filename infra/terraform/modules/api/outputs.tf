output "url" {
  description = "Base URL of the API (the web app's config.json apiUrl)."
  value       = aws_api_gateway_stage.this.invoke_url
}

output "rest_api_id" {
  description = "ID of the REST API."
  value       = aws_api_gateway_rest_api.this.id
}

output "stage_name" {
  description = "Name of the deployed stage."
  value       = aws_api_gateway_stage.this.stage_name
}

output "origin" {
  description = "Origin of the API (https://<id>.execute-api.<region>.<suffix>), for the site's Content-Security-Policy: known from the REST API alone, before the stage (which waits for the site's origin)."
  value       = "https://${aws_api_gateway_rest_api.this.id}.execute-api.${data.aws_region.current.name}.${data.aws_partition.current.dns_suffix}"
}

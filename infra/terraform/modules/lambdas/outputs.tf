output "function_names" {
  description = "Function name per function key (see handlers.json)."
  value       = { for key, fn in aws_lambda_function.this : key => fn.function_name }
}

output "function_arns" {
  description = "Function ARN per function key."
  value       = { for key, fn in aws_lambda_function.this : key => fn.arn }
}

output "invoke_arns" {
  description = "API Gateway invoke ARN per function key."
  value       = { for key, fn in aws_lambda_function.this : key => fn.invoke_arn }
}

output "state_machine_arn" {
  description = "ARN of the state machine the functions start (EMOTIONFY_STATE_MACHINE_ARN)."
  value       = local.state_machine_arn
}

output "on_upload_failure_queue_name" {
  description = "Queue receiving S3 events on_upload failed on after its retries."
  value       = aws_sqs_queue.on_upload_failures.name
}

output "on_content_upload_failure_queue_name" {
  description = "Queue receiving S3 events on_content_upload failed on after its retries."
  value       = aws_sqs_queue.on_content_upload_failures.name
}

output "image_function_keys" {
  description = "Function keys that run from the pipeline container image (the others run from the zip)."
  value       = sort(local.image_functions)
}

output "packaging" {
  description = "How each function is deployed: package type, and the image command or the zip handler."
  value = {
    for key, fn in aws_lambda_function.this : key => {
      package_type = fn.package_type
      command      = try(fn.image_config[0].command, null)
      handler      = fn.handler
    }
  }
}

output "client_limits" {
  description = "The limits the web app shows, written to the site's /config.json as limits: the settings these functions enforce (chalicelib/client_config.py's keys, checked by tests/test_infra.py)."
  value = {
    maxUploadBytes        = local.s.max_upload_bytes
    maxVideoMinutes       = local.s.max_video_seconds / 60
    videosPerDay          = local.s.quota_videos_per_day
    storageBytes          = local.s.quota_storage_bytes
    analysisMinutesPerDay = local.s.quota_analysis_minutes_per_day
  }
}

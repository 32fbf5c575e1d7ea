// Package routes reads the HTTP routes of the Lambda functions from the SAM
// template: the HttpApi events of every AWS::Serverless::Function. The
// template is the one place routes are written; the local server mounts the
// handlers on the patterns this package returns.
//
// It reads the template as YAML nodes, so CloudFormation's short-form tags
// (!Ref, !Sub, !If, !GetAtt) do not get in the way. It never resolves an
// intrinsic function: a Method or Path that is not a plain string is an
// error, not a guess.
package routes

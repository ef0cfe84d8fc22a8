// The OBS controller's errors: one code per thing the user can act on.

export type ControllerErrorCode =
  | 'obs_unreachable' // OBS not running, websocket server off, or wrong URL
  | 'obs_auth_failed' // wrong or missing password
  | 'obs_disconnected' // a request while OBS is away (reconnecting)
  | 'unknown_source'
  | 'not_in_scene' // the source is not in the current scene
  | 'no_background' // add before capture, with a model that needs a plate
  | 'unknown_model' // the engine has no such model, or it is not available
  | 'already_live'
  | 'not_live'
  | 'unsupported' // this OBS lacks what was asked for (a Browser Source in Debian's build)
  | 'obs_request_failed';

export class ControllerError extends Error {
  constructor(
    readonly code: ControllerErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ControllerError';
  }
}

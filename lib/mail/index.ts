export { detectAutomaticMail } from './automatic'
export { parseEmail } from './parse'

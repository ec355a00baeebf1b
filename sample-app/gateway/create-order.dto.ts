import { IsInt, IsString, Max, Min } from 'class-validator';

export class CreateOrderDto {
  @IsString()
  sku!: string;

  @IsInt()
  @Min(1)
  @Max(10)
  quantity!: number;
}
